// Verify's re-read rule with in-memory stores: a user whose stores differ at
// the first look because a live write is still landing is re-read and not
// reported; a stable difference is reported once, with both sides' values.
// (Real MariaDB + writer: tests/e2e.sh.)
#include "domain/verify.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <mutex>

namespace ficus::migrator {
namespace {

// Both stores' data; `modern_on_get` may rewrite the writer's copy on each Get
// (the n-th Get of that user, from 1), simulating writes landing during the scan.
struct World {
  std::mutex mu;
  std::map<std::string, LegacyProfile> legacy;
  std::map<std::string, ModernProfile> modern;
  std::map<std::string, int> modern_gets;
  std::function<void(const std::string&, int, ModernProfile&)> modern_on_get;
  std::vector<ProfileUpdate> legacy_applied;
};

class MemLegacy final : public LegacyStore {
 public:
  explicit MemLegacy(World& w) : w_(w) {}
  Result<std::int64_t> CountProfiles(const KeyRange&) override {
    std::lock_guard<std::mutex> l(w_.mu);
    return static_cast<std::int64_t>(w_.legacy.size());
  }
  Result<std::vector<LegacyProfile>> ReadChunk(const KeyRange& range, const std::string& after,
                                               int limit) override {
    std::lock_guard<std::mutex> l(w_.mu);
    std::vector<LegacyProfile> out;
    for (auto it = w_.legacy.upper_bound(after); it != w_.legacy.end(); ++it) {
      if (!range.Contains(it->first)) continue;
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(it->second);
    }
    return out;
  }
  Result<std::vector<std::string>> ReadUserIds(const KeyRange&, const std::string&, int) override {
    return std::vector<std::string>{};
  }
  Result<std::vector<LegacyProfile>> ReadProfiles(const std::vector<std::string>& ids) override {
    std::lock_guard<std::mutex> l(w_.mu);
    std::vector<LegacyProfile> out;
    for (const auto& id : ids) {
      if (auto it = w_.legacy.find(id); it != w_.legacy.end()) out.push_back(it->second);
    }
    return out;
  }
  Result<LegacyProfile> ReadProfile(const std::string& id) override {
    std::lock_guard<std::mutex> l(w_.mu);
    auto it = w_.legacy.find(id);
    if (it == w_.legacy.end()) return MakeError(ErrorCode::kNotFound, "no " + id);
    return it->second;
  }
  Result<std::vector<std::pair<std::string, std::int64_t>>> ReadOrphanAttributeUsers(int) override {
    return std::vector<std::pair<std::string, std::int64_t>>{};
  }
  Status ApplyUpdates(const std::string& id, const std::vector<ProfileUpdate>& updates) override {
    std::lock_guard<std::mutex> l(w_.mu);
    auto& p = w_.legacy[id];
    p.user_id = id;
    for (const auto& u : updates) {
      w_.legacy_applied.push_back(u);
      p.updated_us = std::max(p.updated_us, u.ts_us);
      for (const auto& [k, v] : u.attributes) {
        bool found = false;
        for (auto& ks : p.keys) {
          if (ks.key == k) {
            ks = KeyState{k, v, u.ts_us};
            found = true;
          }
        }
        if (!found) p.keys.push_back(KeyState{k, v, u.ts_us});
      }
    }
    return {};
  }
  [[nodiscard]] std::string Describe() const override { return "mem"; }

 private:
  World& w_;
};

class MemModern final : public ModernStore {
 public:
  explicit MemModern(World& w) : w_(w) {}
  Result<ModernProfile> Get(const std::string& id) override {
    std::lock_guard<std::mutex> l(w_.mu);
    const int n = ++w_.modern_gets[id];
    auto it = w_.modern.find(id);
    if (it == w_.modern.end()) return MakeError(ErrorCode::kNotFound, "no " + id);
    if (w_.modern_on_get) w_.modern_on_get(id, n, it->second);
    return it->second;
  }
  Status Apply(const ProfileUpdate&) override {
    return MakeError(ErrorCode::kInternal, "not used in these tests");
  }
  Result<bool> HasBulk() override { return false; }
  Result<std::vector<Status>> ApplyBatch(const std::vector<ProfileUpdate>&, bool) override {
    return MakeError(ErrorCode::kInternal, "not used in these tests");
  }
  Result<std::vector<Result<ModernProfile>>> GetMany(const std::vector<std::string>&) override {
    return MakeError(ErrorCode::kInternal, "not used in these tests");
  }
  [[nodiscard]] std::string Describe() const override { return "mem"; }

 private:
  World& w_;
};

constexpr const char* kU = "00000000-0000-4000-8000-000000000001";

struct Run {
  VerifySummary summary;
  std::vector<std::string> lines;
};

Run RunVerify(World& w, bool repair = false) {
  ManualClock clock;
  RateLimiter limiter(clock, 0, 1);
  Progress progress(clock, nullptr, false, "verify", "users", 1'000'000);
  std::atomic<bool> stop{false};
  VerifyOptions o;
  o.partitions = 1;
  o.workers = 1;
  o.repair = repair;
  o.legacy_direct_sql = true;  // MemLegacy::ApplyUpdates stands for the legacy side
  o.reread_attempts = 3;
  Run run;
  Verify v(
      o, [&w]() -> Result<std::unique_ptr<LegacyStore>> { return std::make_unique<MemLegacy>(w); },
      [&w]() -> Result<std::unique_ptr<ModernStore>> { return std::make_unique<MemModern>(w); },
      clock, limiter, progress, stop, [&](const std::string& line) { run.lines.push_back(line); });
  auto r = v.Run();
  EXPECT_TRUE(r) << r.error().message;
  if (r) run.summary = *r;
  return run;
}

void Put(World& w, const std::string& legacy_plan, std::int64_t legacy_ts,
         const std::string& modern_plan, std::int64_t modern_ts) {
  w.legacy[kU] = LegacyProfile{kU, legacy_ts, {KeyState{"plan", legacy_plan, legacy_ts}}};
  w.modern[kU] = ModernProfile{kU, modern_ts, {{"plan", modern_plan}}};
}

TEST(Verify, WriteLandingDuringTheScanSettlesOnReread) {
  World w;
  Put(w, "new", 20, "old", 10);  // legacy has the update, the mirrored copy is still in flight
  w.modern_on_get = [](const std::string&, int n, ModernProfile& p) {
    if (n == 2) p = ModernProfile{kU, 20, {{"plan", "new"}}};
  };
  auto run = RunVerify(w);
  EXPECT_EQ(run.summary.checked, 1);
  EXPECT_EQ(run.summary.matched, 1);
  EXPECT_EQ(run.summary.settled_on_reread, 1);
  EXPECT_EQ(run.summary.mismatched, 0);
  EXPECT_TRUE(run.lines.empty());
}

TEST(Verify, StableDifferenceIsReportedOnceWithBothValues) {
  World w;
  Put(w, "legacy-value", 10, "modern-value", 10);
  auto run = RunVerify(w);
  EXPECT_EQ(run.summary.mismatched, 1);
  EXPECT_EQ(run.summary.attribute_mismatches, 1);
  EXPECT_EQ(w.modern_gets[kU], 2);  // first look + one re-read: nothing moved, so report
  ASSERT_EQ(run.lines.size(), 1u);
  const auto rec = boost::json::parse(run.lines[0]).as_object();
  EXPECT_EQ(rec.at("user_id").as_string(), kU);
  EXPECT_EQ(rec.at("kind").as_string(), "attributes");
  EXPECT_EQ(boost::json::serialize(rec.at("keys")),
            R"([{"key":"plan","legacy":"legacy-value","modern":"modern-value"}])");
}

TEST(Verify, UserThatKeepsChangingIsReportedAfterTheAttempts) {
  World w;
  Put(w, "a", 10, "b", 10);
  w.modern_on_get = [](const std::string&, int n, ModernProfile& p) {
    p.updated_us = 10 + n;  // a write lands before every read, never converging
    p.attributes["plan"] = "b" + std::to_string(n);
  };
  auto run = RunVerify(w);
  EXPECT_EQ(run.summary.mismatched, 1);
  EXPECT_EQ(w.modern_gets[kU], 4);  // first look + 3 re-reads
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_NE(run.lines[0].find(R"("modern":"b4")"), std::string::npos) << run.lines[0];
}

TEST(Verify, RepairCopiesTheNewerWriterValuesToLegacy) {
  World w;
  Put(w, "old", 10, "new", 30);
  auto run = RunVerify(w, /*repair=*/true);
  EXPECT_EQ(run.summary.mismatched, 1);
  EXPECT_EQ(run.summary.repaired, 1);
  ASSERT_EQ(w.legacy_applied.size(), 1u);
  EXPECT_EQ(w.legacy_applied[0].ts_us, 30);  // stamped with the writer's updated_at
  EXPECT_EQ(w.legacy[kU].keys[0].value, std::optional<std::string>("new"));
  ASSERT_EQ(run.lines.size(), 1u);
  EXPECT_NE(run.lines[0].find(R"("repair":"modern_to_legacy","repaired":true)"), std::string::npos)
      << run.lines[0];
}

}  // namespace
}  // namespace ficus::migrator
