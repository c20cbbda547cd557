#include "domain/cdc/follower.h"

#include <gtest/gtest.h>

#include <thread>

#include "domain/cdc/captured_binlog_testdata.h"

namespace ficus::migrator::cdc {
namespace {

std::vector<std::uint8_t> Hex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

struct Script {
  std::vector<std::vector<std::uint8_t>> events;
  std::optional<Error> open_error;
  std::vector<std::string> opened_at;
  std::mutex mu;
};

// Streams the captured events once, then repeats the FORMAT_DESCRIPTION
// (harmless) as an idle server's heartbeat would.
class FakeSource final : public BinlogSource {
 public:
  explicit FakeSource(Script& s) : s_(s) {}
  Status Open(const std::string& pos) override {
    std::lock_guard<std::mutex> lock(s_.mu);
    s_.opened_at.push_back(pos);
    if (s_.open_error) return tl::unexpected(*s_.open_error);
    return {};
  }
  Result<std::span<const std::uint8_t>> Next() override {
    if (i_ < s_.events.size()) return std::span<const std::uint8_t>(s_.events[i_++]);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return std::span<const std::uint8_t>(s_.events[0]);
  }
  bool checksum() const override { return true; }
  std::string Describe() const override { return "fake"; }

 private:
  Script& s_;
  std::size_t i_ = 0;
};

class FakeApplier final : public ChangeApplier {
 public:
  Result<std::vector<RejectedUpdate>> Apply(const std::vector<ProfileUpdate>& u) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_next > 0) {
      --fail_next;
      log.emplace_back("unavailable");
      return MakeError(ErrorCode::kUnavailable, "writer down");
    }
    std::vector<RejectedUpdate> rejected;
    for (const auto& x : u) {
      if (x.user_id == reject_user) {
        log.push_back("reject:" + x.user_id);
        rejected.push_back({x, "attributes.k: value too long"});
        continue;
      }
      log.push_back("apply:" + x.user_id + "@" + std::to_string(x.ts_us));
      applied.push_back(x);
    }
    return rejected;
  }
  Result<std::vector<std::vector<std::string>>> LiveKeys(
      const std::vector<std::string>& users) override {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& user : users) log.push_back("keys:" + user);
    return std::vector<std::vector<std::string>>(users.size(), {"extra"});
  }
  std::string Path() const override { return "bulk"; }
  std::mutex mu;
  int fail_next = 0;
  std::string reject_user;
  std::vector<std::string> log;
  std::vector<ProfileUpdate> applied;
};

struct Harness {
  Script script;
  FakeApplier applier;
  SystemClock clock;
  std::atomic<bool> stop{false};
  FollowerMetrics metrics;
  std::vector<std::string> messages;
  std::string stop_at;  // stop once this position is saved
  FollowerOptions o;
  std::vector<RejectedUpdate> rejected;

  Status Run(const std::string& start) {
    for (auto h : testdata::kCapturedEvents) script.events.push_back(Hex(h));
    o.retry_initial_ms = 1;
    o.retry_max_ms = 2;
    Follower f(
        o, [this] { return std::make_unique<FakeSource>(script); }, applier,
        [this](const FollowState& s) -> Status {
          std::lock_guard<std::mutex> lock(applier.mu);
          applier.log.push_back("save:" + s.gtid);
          if (s.gtid == stop_at) stop.store(true);
          return {};
        },
        clock, stop, metrics, [this](const std::string& m) { messages.push_back(m); },
        [this](const RejectedUpdate& r) { rejected.push_back(r); });
    return f.Run(*GtidPosition::Parse(start));
  }
};

TEST(Follower, CheckpointFollowsTheWritersAcknowledgementAndRetriesWhileItIsDown) {
  Harness h;
  h.applier.fail_next = 3;
  h.stop_at = "0-1-25";
  auto r = h.Run("0-1-21");
  ASSERT_TRUE(r) << r.error().message;
  const auto& log = h.applier.log;
  // Three failed attempts, then the batch, then (never before) its checkpoint.
  ASSERT_GE(log.size(), 5u);
  EXPECT_EQ(log[0], "unavailable");
  EXPECT_EQ(log[2], "unavailable");
  auto first_apply = std::find(log.begin(), log.end(),
                               "apply:0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13@1700000000123457");
  ASSERT_NE(first_apply, log.end());
  auto first_save = std::find_if(log.begin(), log.end(),
                                 [](const std::string& s) { return s.rfind("save:", 0) == 0; });
  ASSERT_NE(first_save, log.end());
  EXPECT_LT(first_apply - log.begin(), first_save - log.begin());
  EXPECT_EQ(log.back(), "save:0-1-25");
  EXPECT_EQ(h.metrics.writer_retries_total.load(), 3u);
  EXPECT_EQ(h.metrics.ddl_skipped_total.load(), 1u);
  EXPECT_EQ(h.metrics.LastGtid(), "0-1-25");
  // The deleted profile: its live keys (asked of the writer) get tombstones.
  bool tombstoned = false;
  for (const auto& u : h.applier.applied) {
    if (u.user_id == "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11" && u.ts_us == 1700000001000000 &&
        u.attributes.size() == 1 && u.attributes[0].first == "extra" && !u.attributes[0].second) {
      tombstoned = true;
    }
  }
  EXPECT_TRUE(tombstoned);
  EXPECT_EQ(h.script.opened_at.front(), "0-1-21");
}

constexpr const char* kUserU = "0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13";

TEST(Follower, ARejectedUpdateIsRecordedAndCountedAndFollowingGoesOn) {
  Harness h;
  h.applier.reject_user = kUserU;
  h.stop_at = "0-1-25";
  auto r = h.Run("0-1-21");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(h.rejected.empty());
  EXPECT_EQ(h.rejected.front().update.user_id, kUserU);
  EXPECT_EQ(h.metrics.updates_rejected_total.load(), h.rejected.size());
  EXPECT_EQ(h.applier.log.back(), "save:0-1-25");
  EXPECT_EQ(h.metrics.ApplyPath(), "bulk");
}

TEST(Follower, StopOnRejectStopsBeforeTheBatchCheckpointNamingUserAndGtids) {
  Harness h;
  h.applier.reject_user = kUserU;
  h.o.stop_on_reject = true;
  h.o.max_batch_wait_ms = 200;  // the whole captured stream in one batch
  auto r = h.Run("0-1-21");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find(std::string("user ") + kUserU), std::string::npos) << m;
  EXPECT_NE(m.find("value too long"), std::string::npos) << m;
  EXPECT_NE(m.find("0-1-22.."), std::string::npos) << m;
  EXPECT_NE(m.find("--on-reject record"), std::string::npos) << m;
  ASSERT_FALSE(h.rejected.empty());  // recorded before stopping
  for (const auto& line : h.applier.log) EXPECT_NE(line.rfind("save:", 0), 0u) << line;
}

TEST(Follower, PurgedBinlogNamesThePositionAndSaysToBackfill) {
  Harness h;
  h.script.open_error = Error(ErrorCode::kPreconditionFailed, "Could not find GTID state");
  auto r = h.Run("0-1-7");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_NE(r.error().message.find("'0-1-7'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("backfill"), std::string::npos);
}

TEST(Follower, MalformedEventStopsAfterApplyingWhatCameBefore) {
  Harness h;
  for (auto hx : testdata::kCapturedEvents) h.script.events.push_back(Hex(hx));
  auto& bad = h.script.events[18];  // DELETE_ROWS of GTID 0-1-23
  bad[25] ^= 0xFF;
  auto events = h.script.events;
  h.script.events.clear();
  FollowerOptions o;
  Follower f(
      o,
      [&] {
        h.script.events = events;
        return std::make_unique<FakeSource>(h.script);
      },
      h.applier,
      [&](const FollowState& s) -> Status {
        std::lock_guard<std::mutex> lock(h.applier.mu);
        h.applier.log.push_back("save:" + s.gtid);
        return {};
      },
      h.clock, h.stop, h.metrics, [](const std::string&) {}, [](const RejectedUpdate&) {});
  auto r = f.Run(*GtidPosition::Parse("0-1-21"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("DELETE_ROWS"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("GTID 0-1-23"), std::string::npos) << r.error().message;
  EXPECT_EQ(h.applier.log.back(), "save:0-1-22");
}

}  // namespace
}  // namespace ficus::migrator::cdc
