#include "domain/verify.h"

#include <boost/json.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "domain/legacy_rules.h"
#include "domain/partition.h"
#include "domain/profile_compare.h"
#include "domain/update_planner.h"
#include "service/blocking_queue.h"
#include "service/datetime.h"

namespace ficus::migrator {

namespace json = boost::json;

namespace {

struct Counters {
  std::atomic<std::int64_t> checked{0}, matched{0}, mismatched{0}, missing_in_modern{0},
      missing_in_legacy{0}, attribute_mismatches{0}, updated_at_mismatches{0}, non_canonical{0},
      settled{0}, legacy_attrs{0}, modern_attrs{0}, repaired{0}, repair_failed{0}, errors{0};
};

std::int64_t Ts(const std::optional<LegacyProfile>& p) {
  return p ? p->updated_us : -1;
}
std::int64_t Ts(const std::optional<ModernProfile>& p) {
  return p ? p->updated_us : -1;
}

json::value TsJson(std::int64_t ts) {
  return ts < 0 ? json::value(nullptr) : json::value(FormatIsoUtcUs(ts));
}

json::value OptJson(const std::optional<std::string>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

class Worker {
 public:
  Worker(const VerifyOptions& options, LegacyStoreFactory& legacy_factory,
         ModernStoreFactory& modern_factory, ModernStoreFactory& legacy_api_factory, Clock& clock,
         Counters& counters, std::function<void(const std::string&)>& emit)
      : options_(options),
        legacy_factory_(legacy_factory),
        modern_factory_(modern_factory),
        legacy_api_factory_(legacy_api_factory),
        clock_(clock),
        c_(counters),
        emit_(emit) {}

  // Errors returned are fatal (a store is unreachable). `prefetched`: the
  // writer's answer for this user from a bulk read, if there was one.
  Status Check(LegacyProfile first,
               std::optional<Result<std::optional<ModernProfile>>> prefetched = std::nullopt) {
    const std::string id = first.user_id;
    if (!IsCanonicalLowerUuid(id)) return ReportNonCanonical(first);
    std::optional<LegacyProfile> legacy = std::move(first);
    auto modern = prefetched ? std::move(*prefetched) : GetModern(id);
    if (!modern) return Fail(modern.error());
    ProfileDiff diff = CompareProfiles(legacy, *modern);
    bool settled = diff.equal();
    for (int attempt = 0; !settled && attempt < options_.reread_attempts; ++attempt) {
      if (attempt > 0) clock_.Sleep(Micros{options_.reread_delay_us});
      auto l2 = GetLegacy(id);
      if (!l2) return Fail(l2.error());
      auto m2 = GetModern(id);
      if (!m2) return Fail(m2.error());
      const bool changed = Ts(*l2) != Ts(legacy) || Ts(*m2) != Ts(*modern);
      legacy = std::move(*l2);
      *modern = std::move(*m2);
      diff = CompareProfiles(legacy, *modern);
      if (diff.equal()) {
        ++c_.settled;
        settled = true;
      } else if (!changed) {
        break;  // a stable difference: report it
      }
    }
    ++c_.checked;
    if (legacy) c_.legacy_attrs += static_cast<std::int64_t>(LiveAttributes(*legacy).size());
    if (*modern) c_.modern_attrs += static_cast<std::int64_t>((*modern)->attributes.size());
    if (settled) {
      ++c_.matched;
      return {};
    }
    ++c_.mismatched;
    if (diff.kind == DiffKind::kUpdatedAt) ++c_.updated_at_mismatches;
    switch (diff.kind) {
      case DiffKind::kMissingInModern:
        ++c_.missing_in_modern;
        break;
      case DiffKind::kMissingInLegacy:
        ++c_.missing_in_legacy;
        break;
      case DiffKind::kUpdatedAt:
        break;
      default:
        ++c_.attribute_mismatches;
        break;
    }
    json::array keys;
    for (const auto& k : diff.keys) {
      keys.push_back(json::object{
          {"key", k.key}, {"legacy", OptJson(k.legacy)}, {"modern", OptJson(k.modern)}});
    }
    json::object rec{{"user_id", id},
                     {"kind", DiffKindName(diff.kind)},
                     {"legacy_updated_at", TsJson(Ts(legacy))},
                     {"modern_updated_at", TsJson(Ts(*modern))},
                     {"keys", std::move(keys)}};
    if (options_.repair) {
      auto r = Repair(id, legacy, *modern, rec);
      if (!r && r.error().code == ErrorCode::kUnavailable) {
        emit_(json::serialize(rec));
        return r;
      }
    }
    emit_(json::serialize(rec));
    return {};
  }

 private:
  // A row the monolith cannot see (it lower-cases ids and matches exactly):
  // reported, never compared with the writer (which lower-cases too and
  // would answer with the visible row) and never repaired.
  Status ReportNonCanonical(const LegacyProfile& p) {
    ++c_.checked;
    ++c_.mismatched;
    ++c_.non_canonical;
    json::object rec{{"user_id", p.user_id},
                     {"kind", "non_canonical_id"},
                     {"legacy_updated_at", TsJson(p.updated_us)},
                     {"modern_updated_at", nullptr},
                     {"keys", json::array()},
                     {"note",
                      "user_id is not a lowercase canonical UUID: invisible through the legacy "
                      "API; not migrated, not repaired (see profile-migrator check)"}};
    if (options_.repair) {
      rec["repair"] = "none";
      rec["repaired"] = false;
      rec["repair_error"] = "non-canonical id: fix or delete the legacy row by hand";
      ++c_.repair_failed;
    }
    emit_(json::serialize(rec));
    return {};
  }

  Status Fail(const Error& e) {
    if (e.code == ErrorCode::kUnavailable) return tl::unexpected(e);
    ++c_.errors;  // this user could not be checked; counted, the scan goes on
    return {};
  }

  // NOLINTNEXTLINE(readability-redundant-access-specifiers)
 public:
  // The writer's answers for many users in one bulk read: per user the
  // profile, nullopt (none), or the error. The whole call's error is fatal
  // when Unavailable.
  Result<std::vector<Result<std::optional<ModernProfile>>>> GetMany(
      const std::vector<std::string>& ids) {
    if (!modern_) {
      auto s = modern_factory_();
      if (!s) return tl::unexpected(s.error());
      modern_ = std::move(*s);
    }
    auto got = modern_->GetMany(ids);
    if (!got) return tl::unexpected(got.error());
    std::vector<Result<std::optional<ModernProfile>>> out;
    out.reserve(got->size());
    for (auto& r : *got) {
      if (r) {
        out.emplace_back(std::optional<ModernProfile>(std::move(*r)));
      } else if (r.error().code == ErrorCode::kNotFound) {
        out.emplace_back(std::optional<ModernProfile>());
      } else {
        out.emplace_back(tl::unexpected(r.error()));
      }
    }
    return out;
  }

 private:
  Result<std::optional<ModernProfile>> GetModern(const std::string& id) {
    if (!modern_) {
      auto s = modern_factory_();
      if (!s) return tl::unexpected(s.error());
      modern_ = std::move(*s);
    }
    auto p = modern_->Get(id);
    if (p) return std::optional<ModernProfile>(std::move(*p));
    if (p.error().code == ErrorCode::kNotFound) return std::optional<ModernProfile>();
    return tl::unexpected(p.error());
  }

  Result<std::optional<LegacyProfile>> GetLegacy(const std::string& id) {
    if (!legacy_) {
      auto s = legacy_factory_();
      if (!s) return tl::unexpected(s.error());
      legacy_ = std::move(*s);
    }
    auto p = legacy_->ReadProfile(id);
    if (p) return std::optional<LegacyProfile>(std::move(*p));
    if (p.error().code == ErrorCode::kNotFound) return std::optional<LegacyProfile>();
    if (p.error().code == ErrorCode::kUnavailable) legacy_.reset();
    return tl::unexpected(p.error());
  }

  Status Repair(const std::string& id, const std::optional<LegacyProfile>& legacy,
                const std::optional<ModernProfile>& modern, json::object& rec) {
    if (!legacy_) {
      auto s = legacy_factory_();
      if (!s) return tl::unexpected(s.error());
      legacy_ = std::move(*s);
    }
    const std::int64_t lts = Ts(legacy), mts = Ts(modern);
    std::string direction;
    Status st;
    if (CompareProfiles(legacy, modern).kind == DiffKind::kUpdatedAt) {
      ++c_.repair_failed;
      rec["repair"] = "none";
      rec["repaired"] = false;
      rec["repair_error"] =
          "only updated_at differs: neither API can move updated_at without writing a key; "
          "left for a human";
      return {};
    }
    auto to_modern = [&](const std::vector<ProfileUpdate>& updates) -> Status {
      for (const auto& u : updates) {
        if (auto s = modern_->Apply(u); !s) return s;
      }
      return {};
    };
    if (legacy && (lts > mts || !modern)) {
      direction = "legacy_to_modern";
      auto plan = PlanUpdates(*legacy);
      if (!plan) {
        st = tl::unexpected(plan.error());
      } else {
        // Keys the writer has that legacy never had: tombstone them at legacy's stamp.
        std::map<std::string, std::string> extra;
        if (modern) {
          std::vector<KeyState> modern_keys;
          for (const auto& [k, v] : modern->attributes) {
            bool known = false;
            for (const auto& lk : legacy->keys) known = known || lk.key == k;
            if (!known) modern_keys.push_back(KeyState{k, v, 0});
          }
          for (auto& u : PlanOverwrite(id, modern_keys, {}, lts)) plan->push_back(std::move(u));
        }
        st = to_modern(*plan);
      }
    } else if (modern && (mts > lts || !legacy)) {
      direction = "modern_to_legacy";
      const std::vector<KeyState> none;
      auto updates = PlanOverwrite(id, legacy ? legacy->keys : none, modern->attributes, mts);
      if (updates.empty()) {
        // Same live values but legacy has no row at all: create an empty profile is impossible.
        st = MakeError(ErrorCode::kInternal, "nothing to write");
      } else if (legacy_api_factory_) {
        // Through the monolith's API: its merge, its history row, its cache
        // invalidated (a direct MySQL write would leave the cache stale).
        if (!legacy_api_) {
          auto s = legacy_api_factory_();
          if (!s) return tl::unexpected(s.error());
          legacy_api_ = std::move(*s);
        }
        for (const auto& u : updates) {
          st = legacy_api_->Apply(u);
          if (!st) break;
        }
      } else if (options_.legacy_direct_sql) {
        st = legacy_->ApplyUpdates(id, updates);
      } else {
        st = MakeError(ErrorCode::kInvalidArgument,
                       "a repair towards legacy needs --legacy-url (the monolith's API, which "
                       "invalidates its cache) or --legacy-direct-sql");
      }
    } else if (legacy && modern) {
      direction = "legacy_to_modern_bumped";
      std::vector<KeyState> modern_keys;
      for (const auto& [k, v] : modern->attributes) modern_keys.push_back(KeyState{k, v, 0});
      st = to_modern(PlanOverwrite(id, modern_keys, LiveAttributes(*legacy), mts + 1));
    }
    rec["repair"] = direction;
    if (!st) {
      ++c_.repair_failed;
      rec["repaired"] = false;
      rec["repair_error"] = st.error().message;
      return st;
    }
    auto l2 = GetLegacy(id);
    auto m2 = GetModern(id);
    const bool ok = l2 && m2 && CompareProfiles(*l2, *m2).equal();
    rec["repaired"] = ok;
    if (ok) {
      ++c_.repaired;
    } else {
      ++c_.repair_failed;
      rec["repair_error"] = !l2   ? l2.error().message
                            : !m2 ? m2.error().message
                                  : "stores still differ after the repair write (a key on the "
                                    "older side carries a newer per-key timestamp)";
    }
    return {};
  }

  const VerifyOptions& options_;
  LegacyStoreFactory& legacy_factory_;
  ModernStoreFactory& modern_factory_;
  ModernStoreFactory& legacy_api_factory_;
  Clock& clock_;
  Counters& c_;
  std::function<void(const std::string&)>& emit_;
  std::unique_ptr<LegacyStore> legacy_;
  std::unique_ptr<ModernStore> modern_;
  std::unique_ptr<ModernStore> legacy_api_;
};

}  // namespace

Verify::Verify(VerifyOptions options, LegacyStoreFactory legacy, ModernStoreFactory modern,
               Clock& clock, RateLimiter& limiter, Progress& progress,
               const std::atomic<bool>& stop, std::function<void(const std::string&)> on_mismatch,
               ModernStoreFactory legacy_api)
    : options_(options),
      legacy_(std::move(legacy)),
      modern_(std::move(modern)),
      legacy_api_(std::move(legacy_api)),
      clock_(clock),
      limiter_(limiter),
      progress_(progress),
      stop_(stop),
      on_mismatch_(std::move(on_mismatch)) {}

Result<VerifySummary> Verify::Run() {
  const MonoTime start = clock_.Mono();
  auto ranges = SplitUserIdSpace(options_.partitions);
  if (!ranges) return tl::unexpected(ranges.error());
  auto db = legacy_();
  if (!db) return tl::unexpected(db.error());
  auto total = (*db)->CountProfiles(KeyRange{});
  if (!total) return tl::unexpected(total.error());
  summary_.legacy_profiles = *total;

  // Sampled runs choose their users first (ids only), then read them in batches.
  std::vector<std::vector<std::string>> batches;
  const bool sampled = options_.sample.kind != SampleSpec::Kind::kAll;
  if (sampled) {
    Reservoir reservoir(options_.sample.count, options_.sample.seed);
    std::vector<std::string> picked;
    std::string after;
    for (;;) {
      auto ids = (*db)->ReadUserIds(KeyRange{}, after, 10'000);
      if (!ids) return tl::unexpected(ids.error());
      if (ids->empty()) break;
      after = ids->back();
      for (auto& id : *ids) {
        if (options_.sample.kind == SampleSpec::Kind::kCount) {
          reservoir.Offer(id);
        } else if (PercentSelects(options_.sample, id)) {
          picked.push_back(std::move(id));
        }
      }
    }
    if (options_.sample.kind == SampleSpec::Kind::kCount) picked = reservoir.Take();
    progress_.SetTotal(static_cast<std::int64_t>(picked.size()));
    for (std::size_t i = 0; i < picked.size(); i += options_.chunk_size) {
      const std::size_t end = std::min(picked.size(), i + options_.chunk_size);
      batches.emplace_back(picked.begin() + static_cast<std::ptrdiff_t>(i),
                           picked.begin() + static_cast<std::ptrdiff_t>(end));
    }
  } else {
    progress_.SetTotal(*total);
  }
  db->reset();

  bool bulk = false;
  if (options_.use_bulk) {
    auto probe = modern_();
    if (!probe) return tl::unexpected(probe.error());
    auto has = (*probe)->HasBulk();
    if (!has) return tl::unexpected(has.error());
    bulk = *has;
  }
  summary_.bulk = bulk;
  const int workers = bulk ? options_.bulk_workers : options_.workers;
  const std::size_t batch = bulk ? static_cast<std::size_t>(std::max(1, options_.batch_users)) : 1;

  Counters counters;
  std::mutex emit_mu;
  std::function<void(const std::string&)> emit = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(emit_mu);
    on_mismatch_(line);
  };
  std::optional<Error> fatal;
  std::mutex fatal_mu;
  std::atomic<bool> abort{false};
  auto set_fatal = [&](const Error& e) {
    std::lock_guard<std::mutex> lock(fatal_mu);
    if (!fatal) fatal = e;
    abort = true;
  };

  using Batch = std::vector<LegacyProfile>;
  BlockingQueue<Batch> queue(bulk ? static_cast<std::size_t>(workers) * 2 + 4
                                  : static_cast<std::size_t>(workers) * 8 + 64);
  const std::size_t nreaders =
      sampled ? std::min<std::size_t>(ranges->size(), batches.size()) : ranges->size();
  std::atomic<std::size_t> readers_left{nreaders};
  if (nreaders == 0) queue.Close();
  auto reader = [&](std::size_t r) {
    struct Closer {
      std::atomic<std::size_t>& left;
      BlockingQueue<Batch>& q;
      ~Closer() {
        if (--left == 0) q.Close();
      }
    } closer{readers_left, queue};
    auto conn = legacy_();
    if (!conn) return set_fatal(conn.error());
    auto push_all = [&](std::vector<LegacyProfile>& rows) {
      for (std::size_t i = 0; i < rows.size(); i += batch) {
        const std::size_t end = std::min(rows.size(), i + batch);
        Batch b(std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(i)),
                std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(end)));
        if (!queue.Push(std::move(b))) return false;
      }
      return true;
    };
    if (sampled) {
      for (std::size_t b = r; b < batches.size() && !stop_ && !abort; b += nreaders) {
        auto rows = (*conn)->ReadProfiles(batches[b]);
        if (!rows) return set_fatal(rows.error());
        if (!push_all(*rows)) return;
      }
      return;
    }
    std::string after;
    while (!stop_ && !abort) {
      auto rows = (*conn)->ReadChunk((*ranges)[r], after, options_.chunk_size);
      if (!rows) return set_fatal(rows.error());
      if (rows->empty()) return;
      after = rows->back().user_id;
      if (!push_all(*rows)) return;
    }
  };

  auto worker = [&] {
    Worker w(options_, legacy_, modern_, legacy_api_, clock_, counters, emit);
    while (auto b = queue.Pop()) {
      if (stop_ || abort) continue;
      const std::size_t n = b->size();
      limiter_.Acquire(static_cast<double>(n));
      std::vector<std::optional<Result<std::optional<ModernProfile>>>> pre(n);
      if (bulk) {
        std::vector<std::string> ids;
        ids.reserve(n);
        for (const auto& p : *b) ids.push_back(p.user_id);
        auto got = w.GetMany(ids);
        if (!got) {
          set_fatal(got.error());
          continue;
        }
        for (std::size_t i = 0; i < n && i < got->size(); ++i) pre[i] = std::move((*got)[i]);
      }
      for (std::size_t i = 0; i < n && !abort; ++i) {
        if (auto s = w.Check(std::move((*b)[i]), std::move(pre[i])); !s) set_fatal(s.error());
      }
      progress_.Add(static_cast<std::int64_t>(n));
    }
  };

  std::vector<std::thread> threads;
  for (std::size_t r = 0; r < nreaders; ++r) threads.emplace_back(reader, r);
  std::atomic<int> workers_left{workers};
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      worker();
      --workers_left;
    });
  }
  while (workers_left > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop_ || abort) queue.Close();
    progress_.Tick();
  }
  queue.Close();
  for (auto& t : threads) t.join();
  progress_.Finish();

  summary_.checked = counters.checked;
  summary_.matched = counters.matched;
  summary_.mismatched = counters.mismatched;
  summary_.missing_in_modern = counters.missing_in_modern;
  summary_.missing_in_legacy = counters.missing_in_legacy;
  summary_.attribute_mismatches = counters.attribute_mismatches;
  summary_.updated_at_mismatches = counters.updated_at_mismatches;
  summary_.non_canonical = counters.non_canonical;
  summary_.settled_on_reread = counters.settled;
  summary_.legacy_attributes = counters.legacy_attrs;
  summary_.modern_attributes = counters.modern_attrs;
  summary_.repaired = counters.repaired;
  summary_.repair_failed = counters.repair_failed;
  summary_.errors = counters.errors;
  summary_.interrupted = stop_.load();
  summary_.seconds = Seconds(clock_.Mono() - start);
  if (fatal) return tl::unexpected(*fatal);
  return summary_;
}

}  // namespace ficus::migrator
