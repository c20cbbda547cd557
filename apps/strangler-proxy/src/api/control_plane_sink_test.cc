#include "api/control_plane_sink.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <vector>

namespace ficus::proxy {
namespace {

// In-memory ReplayLog: records what the sink asks for (the on-disk
// ReplayLog has its own tests; here only the sink's decisions matter).
class MemoryReplayLog final : public ReplayLog {
 public:
  struct Rec {
    ReplayRecord write;
    bool held = false;
    enum { kPending, kSettled, kReleased } state = kPending;
    bool delivered = false;  // by the replayer (test sets it)
  };
  void Append(ReplayRecord w, bool held, Done done) override {
    if (fail) {
      done(MakeError(ErrorCode::kUnavailable, "replay log full: test"));
      return;
    }
    recs.push_back({std::move(w), held});
    done(recs.size());
  }
  Status Settle(uint64_t id) override { return Mark(id, Rec::kSettled); }
  Status Release(uint64_t id) override { return Mark(id, Rec::kReleased); }
  [[nodiscard]] uint64_t Backlog(const std::string&, const std::string&) const override {
    return 0;
  }
  [[nodiscard]] uint64_t Queued(const std::string&, const std::string&) const override { return 0; }
  [[nodiscard]] uint64_t PendingFor(const std::string& user,
                                    const std::string& backend) const override {
    uint64_t n = 0;
    for (const auto& r : recs) {
      n += r.write.user_key == user && r.write.backend == backend && r.state != Rec::kSettled &&
                   !r.delivered
               ? 1
               : 0;
    }
    return n;
  }
  [[nodiscard]] ReplayLogStats Stats() const override { return {}; }
  [[nodiscard]] bool Full() const override { return fail; }

  Status Mark(uint64_t id, decltype(Rec::state) s) {
    if (id == 0 || id > recs.size() || !recs[id - 1].held || recs[id - 1].state != Rec::kPending) {
      return MakeError(ErrorCode::kNotFound, "not held");
    }
    recs[id - 1].state = s;
    return {};
  }
  std::vector<Rec> recs;
  bool fail = false;
};

const char* kYaml = R"(
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082}
cohorts:
  profiles: {key: [json:user_id], salt: s}
routes:
  - name: upd
    match: {method: POST, path: /u}
    cohort: profiles
    mode: canary
    percent: 50
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.5, window_s: 10, min_requests: 4}
)";

struct Fixture {
  explicit Fixture(bool durable_to_modern = false)
      : sink(
            cp, &replay_log, metrics, true,
            [this](const std::string& r, const std::string&) { trips.push_back(r); },
            durable_to_modern) {
    auto cfg = ParseConfig(kYaml);
    EXPECT_TRUE(cfg.has_value());
    EXPECT_TRUE(cp.Configure(**cfg));
  }
  ControlPlane cp;
  MemoryReplayLog replay_log;
  MetricsRegistry metrics;
  std::vector<std::string> trips;
  ControlPlaneSink sink;
};

MirrorExchange Write(bool to_legacy, const std::string& user = "u1") {
  MirrorExchange x;
  x.route = "upd";
  x.mode = Mode::kCanary;
  x.primary_backend = to_legacy ? "modern" : "legacy";
  x.mirror_backend = to_legacy ? "legacy" : "modern";
  x.request_id = "r1";
  x.cohort_key = user;
  x.method = "POST";
  x.target = "/u";
  x.headers = {{"X-Ficus-Timestamp", "1763766152123456"}};
  x.body = R"({"user_id":")" + user + R"(","attributes":{"a":"b"}})";
  x.write = true;
  x.mirror_to_legacy = to_legacy;
  return x;
}

MirrorResult Answer(int status) {
  MirrorResult r;
  r.status = status;
  r.body = R"({"ret":200,"data":{"attributes":{"a":"b"}}})";
  r.latency_us = 100;
  return r;
}

TEST(ControlPlaneSink, WritesToLegacyArePersistedBeforeTheAnswerAndSettledByTheMirror) {
  Fixture f;
  MirrorExchange x = Write(true);
  ASSERT_TRUE(f.sink.NeedsDurableBeforeAnswer(x));
  x.durable_before_answer = true;
  uint64_t id = 0;
  f.sink.Persist(x, /*in_flight=*/true, [&](uint64_t v) { id = v; });
  ASSERT_EQ(id, 1u);
  ASSERT_TRUE(f.replay_log.recs[0].held);
  EXPECT_EQ(f.replay_log.recs[0].write.backend, "legacy");
  EXPECT_EQ(f.replay_log.recs[0].write.headers[0].second, "1763766152123456");
  x.replay_seq = id;
  x.primary_status = 200;
  x.primary_body = Answer(200).body;
  f.sink.OnDispatched(x);
  f.sink.OnCompleted(x, Answer(200));
  EXPECT_EQ(f.replay_log.recs[0].state, MemoryReplayLog::Rec::kSettled);
  EXPECT_EQ(f.replay_log.recs.size(), 1u);  // not appended a second time
}

TEST(ControlPlaneSink, AFailedMirrorReleasesTheHeldRecordToTheReplayer) {
  Fixture f;
  MirrorExchange x = Write(true);
  x.durable_before_answer = true;
  f.sink.Persist(x, true, [&](uint64_t v) { x.replay_seq = v; });
  MirrorResult timeout;
  timeout.outcome = MirrorOutcome::kTimeout;
  f.sink.OnCompleted(x, timeout);
  EXPECT_EQ(f.replay_log.recs[0].state, MemoryReplayLog::Rec::kReleased);
  // A 503 (overloaded) did not land either.
  MirrorExchange y = Write(true, "u2");
  y.durable_before_answer = true;
  f.sink.Persist(y, true, [&](uint64_t v) { y.replay_seq = v; });
  f.sink.OnCompleted(y, Answer(503));
  EXPECT_EQ(f.replay_log.recs[1].state, MemoryReplayLog::Rec::kReleased);
}

TEST(ControlPlaneSink, FailedOrDroppedWritesToModernGoToTheReplayLog) {
  Fixture f;
  MirrorExchange x = Write(false);
  EXPECT_FALSE(f.sink.NeedsDurableBeforeAnswer(x));
  f.sink.OnDropped(x, MirrorOutcome::kOverflow);
  ASSERT_EQ(f.replay_log.recs.size(), 1u);
  EXPECT_FALSE(f.replay_log.recs[0].held);
  EXPECT_EQ(f.replay_log.recs[0].write.backend, "modern");
  MirrorResult refused;
  refused.outcome = MirrorOutcome::kConnectError;
  f.sink.OnCompleted(x, refused);
  EXPECT_EQ(f.replay_log.recs.size(), 2u);
  f.sink.OnCompleted(x, Answer(400));  // the store refused it for good: not replayed
  EXPECT_EQ(f.replay_log.recs.size(), 2u);
  MirrorExchange read = Write(false);
  read.write = false;
  read.method = "GET";
  f.sink.OnDropped(read, MirrorOutcome::kOverflow);  // reads are only counted
  EXPECT_EQ(f.replay_log.recs.size(), 2u);
}

TEST(ControlPlaneSink, PersistFailureIsCountedAsUnprotected) {
  Fixture f;
  f.replay_log.fail = true;
  MirrorExchange x = Write(true);
  uint64_t id = 99;
  f.sink.Persist(x, true, [&](uint64_t v) { id = v; });
  EXPECT_EQ(id, 0u);
  EXPECT_NE(f.metrics.Render().find("ficus_proxy_unprotected_writes_total 1"), std::string::npos);
}

TEST(ControlPlaneSink, WritesForLegacyAreRefusedWhileTheReplayLogIsFull) {
  Fixture f;
  EXPECT_FALSE(f.sink.RefuseWrite("upd").has_value());
  f.replay_log.fail = true;  // Full() too
  auto why = f.sink.RefuseWrite("upd");
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("replay log is full"), std::string::npos);
  EXPECT_NE(f.metrics.Render().find("ficus_proxy_writes_refused_total 1"), std::string::npos);
}

TEST(ControlPlaneSink, ComparesAnswersButSkipsOnesThatRacedAWrite) {
  Fixture f;
  MirrorExchange read = Write(false, "u9");
  read.write = false;
  read.method = "GET";
  read.primary_status = 200;
  read.primary_body = R"({"ret":200,"data":{"attributes":{"a":"legacy"}}})";
  f.sink.OnCompleted(read, Answer(200));
  auto live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.compared, 1u);
  EXPECT_EQ(live->mismatch.mismatched, 1u);
  // A write of u9 is on its way to modern: a read compared now may have overtaken it.
  MirrorExchange w = Write(false, "u9");
  f.sink.OnDispatched(w);
  f.sink.OnCompleted(read, Answer(200));
  live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.compared, 1u);
  EXPECT_EQ(live->compare_skipped, 1u);
}

TEST(ControlPlaneSink, ATooLargePrimaryIsCountedAsNotComparedTooLarge) {
  Fixture f;
  MirrorExchange read = Write(false, "u10");
  read.write = false;
  read.method = "GET";
  read.primary_status = 200;
  read.primary_too_large = true;  // over compare.max_bytes: its body was not kept
  f.sink.OnCompleted(read, Answer(200));
  auto live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.compared, 0u);
  EXPECT_EQ(live->mismatch.mismatched, 0u) << "an uncompared answer reported as a mismatch";
  EXPECT_EQ(live->compare_skipped, 1u);
  EXPECT_EQ(live->compare_too_large, 1u);
  // A write race is skipped but not "too large".
  MirrorExchange w = Write(false, "u10");
  f.sink.OnDispatched(w);
  read.primary_too_large = false;
  f.sink.OnCompleted(read, Answer(200));
  live = f.cp.Live("upd");
  EXPECT_EQ(live->compare_skipped, 2u);
  EXPECT_EQ(live->compare_too_large, 1u);
}

TEST(ControlPlaneSink, ComparisonsOfAUserWithReplayPendingAreSkippedHoweverLong) {
  Fixture f;
  // A write of u7 waits in the replay log for modern (an outage long ago:
  // no time window covers it any more).
  ReplayRecord pending;
  pending.route = "upd";
  pending.backend = "modern";
  pending.user_key = "u7";
  f.replay_log.recs.push_back({pending, false});
  MirrorExchange read = Write(false, "u7");
  read.write = false;
  read.method = "GET";
  read.primary_status = 200;
  read.primary_body = R"({"ret":200,"data":{"attributes":{"a":"legacy"}}})";
  f.sink.OnCompleted(read, Answer(200));
  auto live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.mismatched, 0u) << "a transient difference reported as a mismatch";
  EXPECT_EQ(live->compare_skipped, 1u);
  // Once delivered, the same difference is a real mismatch.
  f.replay_log.recs[0].delivered = true;
  f.sink.OnCompleted(read, Answer(200));
  live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.mismatched, 1u);
}

TEST(ControlPlaneSink, AnAnswerThatSpannedAReplayedWriteIsNotCompared) {
  Fixture f;
  MirrorExchange read = Write(false, "u6");
  read.write = false;
  read.method = "GET";
  read.primary_status = 200;
  read.primary_body = R"({"ret":200,"data":{"attributes":{"a":"legacy"}}})";
  read.dispatched_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
  f.sink.OnReplayed("u6");  // delivered while the read was on its way
  f.sink.OnCompleted(read, Answer(200));
  auto live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.mismatched, 0u);
  EXPECT_EQ(live->compare_skipped, 1u);
}

TEST(ControlPlaneSink, AWritesOwnHeldRecordDoesNotSkipItsComparison) {
  Fixture f;
  MirrorExchange x = Write(true, "u8");
  x.mode = Mode::kCanary;
  x.durable_before_answer = true;
  f.sink.Persist(x, true, [&](uint64_t v) { x.replay_seq = v; });
  x.primary_status = 200;
  x.primary_body = R"({"ret":200,"data":{"attributes":{"a":"other"}}})";
  f.sink.OnDispatched(x);
  f.sink.OnCompleted(x, Answer(200));
  auto live = f.cp.Live("upd");
  EXPECT_EQ(live->mismatch.compared, 1u);
  EXPECT_EQ(live->mismatch.mismatched, 1u);
}

TEST(ControlPlaneSink, WritesServedByLegacyArePersistedForModernWhenConfigured) {
  Fixture off;
  EXPECT_FALSE(off.sink.NeedsDurableBeforeAnswer(Write(false)));
  Fixture f(/*durable_to_modern=*/true);
  MirrorExchange x = Write(false);
  ASSERT_TRUE(f.sink.NeedsDurableBeforeAnswer(x));
  x.durable_before_answer = true;
  f.sink.OnDropped(x, MirrorOutcome::kUnhealthy);  // the proxy persists it before the answer
  EXPECT_TRUE(f.replay_log.recs.empty());
  f.sink.Persist(x, false, [](uint64_t) {});
  ASSERT_EQ(f.replay_log.recs.size(), 1u);
  EXPECT_EQ(f.replay_log.recs[0].write.backend, "modern");
  EXPECT_FALSE(f.replay_log.recs[0].held);
}

TEST(ControlPlaneSink, PendingTowardsKnowsCopiesInFlightAndInTheLog) {
  Fixture f;
  EXPECT_FALSE(f.sink.PendingTowards("u5", "modern", false));
  MirrorExchange w = Write(false, "u5");
  f.sink.OnDispatched(w);
  EXPECT_TRUE(f.sink.PendingTowards("u5", "modern", false));
  EXPECT_FALSE(f.sink.PendingTowards("u5", "legacy", true));
  MirrorResult refused;
  refused.outcome = MirrorOutcome::kConnectError;
  w.primary_status = 200;
  f.sink.OnCompleted(w, refused);  // now in the replay log instead
  EXPECT_TRUE(f.sink.PendingTowards("u5", "modern", false));
  f.replay_log.recs.back().delivered = true;
  EXPECT_FALSE(f.sink.PendingTowards("u5", "modern", false));
  EXPECT_FALSE(f.sink.PendingTowards("", "modern", false));
}

TEST(ControlPlaneSink, CopiesDroppedBecauseModernIsDownCountAsModernErrors) {
  Fixture f;
  MirrorExchange x = Write(false);
  for (int i = 0; i < 4; ++i) f.sink.OnDropped(x, MirrorOutcome::kUnhealthy);
  ASSERT_EQ(f.trips.size(), 1u);
  Fixture g;
  for (int i = 0; i < 4; ++i) g.sink.OnDropped(x, MirrorOutcome::kOverflow);  // our own bound
  MirrorExchange to_legacy = Write(true);
  for (int i = 0; i < 4; ++i) g.sink.OnDropped(to_legacy, MirrorOutcome::kUnhealthy);
  EXPECT_TRUE(g.trips.empty());
}

TEST(ControlPlaneSink, ModernErrorsTripTheFallbackOnce) {
  Fixture f;
  PrimaryObservation o{"upd", true, 0, false, 1000};
  for (int i = 0; i < 6; ++i) f.sink.OnPrimary(o);
  ASSERT_EQ(f.trips.size(), 1u);
  EXPECT_EQ(f.trips[0], "upd");
  EXPECT_TRUE(f.cp.Tripped("upd"));
  f.sink.OnPrimary(PrimaryObservation{"upd", false, 0, false, 1000});  // legacy errors: no trip
  EXPECT_EQ(f.trips.size(), 1u);
}

}  // namespace
}  // namespace ficus::proxy
