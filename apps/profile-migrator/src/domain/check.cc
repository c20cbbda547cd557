#include "domain/check.h"

#include <boost/json.hpp>

#include "domain/legacy_rules.h"

namespace ficus::migrator {

Check::Check(CheckOptions options, LegacyStoreFactory legacy, Clock& clock, Progress& progress,
             const std::atomic<bool>& stop, std::function<void(const std::string&)> on_finding)
    : options_(options),
      legacy_(std::move(legacy)),
      clock_(clock),
      progress_(progress),
      stop_(stop),
      on_finding_(std::move(on_finding)) {}

Result<CheckSummary> Check::Run() {
  CheckSummary s;
  const MonoTime start = clock_.Mono();
  auto db = legacy_();
  if (!db) return tl::unexpected(db.error());
  auto total = (*db)->CountProfiles(KeyRange{});
  if (!total) return tl::unexpected(total.error());
  s.legacy_profiles = *total;
  progress_.SetTotal(*total);
  auto emit = [&](const Finding& f) {
    ++s.by_kind[f.kind];
    on_finding_(boost::json::serialize(boost::json::object{{"user_id", f.user_id},
                                                           {"kind", f.kind},
                                                           {"key", f.key},
                                                           {"detail", f.detail},
                                                           {"blocking", f.blocking}}));
  };
  const std::int64_t now = options_.now_us;
  std::string after;
  while (!stop_) {
    auto rows = (*db)->ReadChunk(KeyRange{}, after, options_.chunk_size);
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) break;
    after = rows->back().user_id;
    for (const auto& p : *rows) {
      bool blocked = false;
      for (const auto& f : CheckProfile(p, now)) {
        emit(f);
        if (f.blocking) {
          blocked = true;
        } else {
          ++s.warnings;
        }
      }
      s.blocked_users += blocked ? 1 : 0;
    }
    s.scanned += static_cast<std::int64_t>(rows->size());
    progress_.Add(static_cast<std::int64_t>(rows->size()));
    progress_.Tick();
  }
  if (!stop_) {
    auto orphans = (*db)->ReadOrphanAttributeUsers(options_.max_orphan_users);
    if (!orphans) return tl::unexpected(orphans.error());
    for (const auto& [user, rows] : *orphans) {
      ++s.orphan_users;
      emit(Finding{
          user, "orphan_attributes", "",
          std::to_string(rows) + " profile_attributes rows without a profiles row: never migrated",
          true});
    }
  }
  progress_.Finish();
  s.interrupted = stop_.load();
  s.seconds = Seconds(clock_.Mono() - start);
  return s;
}

}  // namespace ficus::migrator
