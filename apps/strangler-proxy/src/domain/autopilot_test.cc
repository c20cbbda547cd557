#include "domain/autopilot.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "domain/autopilot_plan.h"
#include "domain/config.h"

namespace ficus::proxy {
namespace {

namespace json = boost::json;
using Kind = AutopilotDecision::Kind;

AutopilotPlan SmallPlan() {
  auto p = ParseAutopilotPlan(json::parse(R"({
      "shadow": {"min_compared": 50, "max_mismatch_rate": 0.02},
      "canary": {"steps": [5, 25, 100], "min_s": 2, "min_requests": 40},
      "full": {"min_s": 2, "min_requests": 40},
      "gates": {"window_s": 5, "min_samples": 10, "min_compared": 10},
      "on_failure": {"pause_after": 3}})"),
                              "autopilot");
  EXPECT_TRUE(p) << p.error().message;
  return *p;
}

// A simulated route group: traffic is added per tick; the clock is injected.
struct Sim {
  AutopilotSnapshot snap;
  void Tick(int64_t ms, uint64_t requests, double modern_err = 0, double mismatch = 0,
            uint64_t compared = 0) {
    snap.now_ms += ms;
    auto& c = snap.counters;
    c.requests += requests;
    c.legacy_answers += requests;
    c.modern_answers += requests;
    c.modern_errors += static_cast<uint64_t>(static_cast<double>(requests) * modern_err);
    c.compared += compared;
    c.mismatched += static_cast<uint64_t>(static_cast<double>(compared) * mismatch);
    snap.legacy_p99_ms = 10;
    snap.modern_p99_ms = 8;
  }
};

// Drives a run like the driver does: apply every non-hold decision.
Kind Drive(const AutopilotPlan& plan, AutopilotRun& run, Sim& sim,
           AutopilotDecision* out = nullptr) {
  auto d = Evaluate(plan, run, sim.snap);
  if (d.kind != Kind::kHold || d.failure) {
    Commit(plan, run, d, sim.snap);
    if (d.kind == Kind::kAdvance || d.kind == Kind::kRollback || d.kind == Kind::kPause) {
      if (d.target >= -1) sim.snap.shape = StepShape(plan, d.target);
    }
  }
  if (out) *out = d;
  return d.kind;
}

TEST(AutopilotSteps, LabelsShapesAndLocate) {
  const auto plan = SmallPlan();
  EXPECT_EQ(StepCount(plan), 5);
  EXPECT_EQ(StepLabel(plan, 0), "shadow");
  EXPECT_EQ(StepLabel(plan, 2), "canary 25%");
  EXPECT_EQ(StepLabel(plan, 4), "full");
  EXPECT_EQ(StepLabel(plan, -1), "legacy");
  EXPECT_EQ(StepShape(plan, 1).percent_bp, 500u);
  EXPECT_EQ(Locate(plan, {Mode::kLegacy, 0, false}), 0);
  EXPECT_EQ(Locate(plan, {Mode::kCanary, 300, false}), 0);
  EXPECT_EQ(Locate(plan, {Mode::kCanary, 3000, false}), 2);
  EXPECT_EQ(Locate(plan, {Mode::kFull, 0, false}), 4);
  EXPECT_EQ(Locate(plan, {Mode::kFull, 0, true}), 0);
}

TEST(Autopilot, HealthyModernWalksToFullThenDone) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.now_ms = 1'000'000;
  AutopilotDecision first;
  auto run = StartRun(plan, sim.snap, &first, "ops");
  EXPECT_EQ(first.kind, Kind::kAdvance);  // legacy -> shadow is applied
  sim.snap.shape = StepShape(plan, 0);
  std::vector<int> steps;
  for (int i = 0; i < 200 && run.status == RunStatus::kRunning; ++i) {
    sim.Tick(250, 10, 0, 0, 5);
    const int before = run.step;
    Drive(plan, run, sim);
    if (run.step != before) steps.push_back(run.step);
  }
  EXPECT_EQ(run.status, RunStatus::kDone) << run.why;
  EXPECT_EQ(steps, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(run.failures, 0u);
  EXPECT_NE(run.why.find("migration done"), std::string::npos) << run.why;
}

TEST(Autopilot, ShadowNeedsComparedAnswersAndHoldTime) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 0);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  sim.Tick(3000, 100, 0, 0, 20);  // held long enough, 20 of 50 compared
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kHold);
  EXPECT_NE(d.reason.find("20 of 50 compared answers"), std::string::npos) << d.reason;
  sim.Tick(500, 100, 0, 0, 40);
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kAdvance) << d.reason;
  EXPECT_EQ(run.step, 1);
}

TEST(Autopilot, WrongDataStopsInShadowAndPausesAfterNFailures) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 0);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  int failures = 0;
  for (int i = 0; i < 100 && run.status == RunStatus::kRunning; ++i) {
    sim.Tick(250, 10, 0, 0.5, 10);
    Drive(plan, run, sim, &d);
    if (d.failure) ++failures;
    EXPECT_EQ(run.step, 0);  // never leaves shadow
  }
  EXPECT_EQ(run.status, RunStatus::kPaused);
  EXPECT_EQ(failures, 3);
  EXPECT_EQ(d.kind, Kind::kPause);
  EXPECT_NE(run.why.find("mismatch rate 0.500"), std::string::npos) << run.why;
  EXPECT_NE(run.why.find("paused for a human"), std::string::npos) << run.why;
  // The decision carries the values that caused it.
  EXPECT_EQ(d.values.mismatched * 2, d.values.compared);
}

TEST(Autopilot, SkippedComparisonsAreNotMismatches) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 0);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  for (int i = 0; i < 20; ++i) {
    sim.Tick(250, 10, 0, 0, 10);
    sim.snap.counters.skipped += 50;  // racing writes: left out, not failures
    AutopilotDecision d;
    Drive(plan, run, sim, &d);
    EXPECT_FALSE(d.failure) << d.reason;
  }
  EXPECT_GE(run.step, 1);
}

TEST(Autopilot, ErrorsAtCanaryRollBackToLastGood) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 2);  // canary 25%
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  EXPECT_EQ(run.step, 2);
  AutopilotDecision d;
  Kind k = Kind::kHold;
  for (int i = 0; i < 20 && k == Kind::kHold; ++i) {
    sim.Tick(250, 10, 0.3);
    k = Drive(plan, run, sim, &d);
  }
  ASSERT_EQ(k, Kind::kRollback) << d.reason;
  EXPECT_EQ(d.target, 1);
  EXPECT_TRUE(d.failure);
  EXPECT_NE(d.reason.find("error rate modern 0.300 vs legacy 0.000"), std::string::npos)
      << d.reason;
  EXPECT_DOUBLE_EQ(*d.values.modern_error_rate, 0.3);
  EXPECT_EQ(run.step, 1);
  EXPECT_EQ(sim.snap.shape.percent_bp, 500u);
  EXPECT_EQ(run.failures, 1u);
}

TEST(Autopilot, ErrorGateNeedsAbsoluteAndRelativeExcess) {
  const auto plan = SmallPlan();  // max_increase 0.01, max_ratio 2
  Sim sim;
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  // Legacy 10% errors, modern 15%: +0.05 absolute but only x1.5: passes.
  for (int i = 0; i < 8; ++i) {
    sim.Tick(250, 20, 0.15);
    sim.snap.counters.legacy_errors += 2;
    AutopilotDecision d;
    Drive(plan, run, sim, &d);
    EXPECT_FALSE(d.failure) << d.reason;
  }
  // Modern 30%: +0.20 and x3: fails.
  AutopilotDecision d;
  for (int i = 0; i < 30 && !d.failure; ++i) {
    sim.Tick(250, 20, 0.5);
    sim.snap.counters.legacy_errors += 2;
    Drive(plan, run, sim, &d);
  }
  EXPECT_TRUE(d.failure);
}

TEST(Autopilot, SlowModernFailsTheP99Gate) {
  const auto plan = SmallPlan();  // ratio 1.5, slack 10 ms
  Sim sim;
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  sim.Tick(250, 20);
  sim.snap.modern_p99_ms = 24;  // 10 * 1.5 + 10 = 25: passes
  AutopilotDecision d;
  Drive(plan, run, sim, &d);
  EXPECT_FALSE(d.failure) << d.reason;
  sim.Tick(250, 20);
  sim.snap.modern_p99_ms = 40;
  Drive(plan, run, sim, &d);
  EXPECT_TRUE(d.failure);
  EXPECT_NE(d.reason.find("p99 modern 40.0 ms vs legacy 10.0 ms (max 25.0 ms)"), std::string::npos)
      << d.reason;
}

TEST(Autopilot, BacklogTowardsModernHoldsTheAdvance) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  sim.snap.backlog_to_modern = 7;
  AutopilotDecision d;
  for (int i = 0; i < 20; ++i) {
    sim.Tick(250, 20);
    EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kHold);
  }
  EXPECT_NE(d.reason.find("replay backlog towards modern: 7"), std::string::npos) << d.reason;
  sim.snap.backlog_to_modern = 0;
  sim.Tick(250, 20);
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kAdvance) << d.reason;
}

TEST(Autopilot, ExternalCheckMustPassDuringTheStep) {
  auto plan = SmallPlan();
  plan.check.url = "http://127.0.0.1:9/verify";
  Sim sim;
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  sim.snap.check = {true, true, sim.snap.now_ms - 1, "HTTP 200"};  // before this step: stale
  AutopilotDecision d;
  for (int i = 0; i < 12; ++i) {
    sim.Tick(250, 20);
    Drive(plan, run, sim, &d);
  }
  EXPECT_EQ(d.kind, Kind::kHold);
  EXPECT_TRUE(d.want_check);
  EXPECT_NE(d.reason.find("waiting for the external check"), std::string::npos) << d.reason;
  sim.snap.check = {true, false, sim.snap.now_ms, "HTTP 500"};
  sim.Tick(250, 20);
  Drive(plan, run, sim, &d);
  EXPECT_EQ(d.kind, Kind::kHold);
  EXPECT_FALSE(d.failure);  // a failing check holds; it is not a rollback
  EXPECT_NE(d.reason.find("check failed: HTTP 500"), std::string::npos) << d.reason;
  sim.snap.check = {true, true, sim.snap.now_ms, "HTTP 204"};
  sim.Tick(250, 20);
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kAdvance) << d.reason;
}

TEST(Autopilot, AdvanceOnlyInsideTheTimeWindow) {
  auto plan = SmallPlan();
  plan.window = {true, 0x1f, 9 * 60, 17 * 60};  // Mon-Fri 09:00-17:00 UTC
  Sim sim;
  sim.snap.now_ms = 1764928800000;              // Fri 2025-12-05 10:00 UTC
  sim.snap.now_ms += int64_t{8} * 3600 * 1000;  // 18:00
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  for (int i = 0; i < 20; ++i) {
    sim.Tick(250, 20);
    EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kHold);
  }
  EXPECT_NE(d.reason.find("outside the advance window"), std::string::npos);
  sim.snap.now_ms += (24 + 6) * 3600 * 1000 - 5000;  // Sat 23:59: still no
  sim.Tick(250, 20);
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kHold);
  sim.snap.now_ms += 2 * 86400 * 1000 + 10 * 3600 * 1000;  // Mon ~10:00
  sim.Tick(250, 20);
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kAdvance) << d.reason;
}

TEST(Autopilot, ManualChangePausesTheRun) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 1);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  sim.snap.shape = RouteShape{Mode::kCanary, 1000, false};
  sim.Tick(250, 20);
  AutopilotDecision d;
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kPause);
  EXPECT_EQ(run.status, RunStatus::kPaused);
  EXPECT_NE(run.why.find("manual change: the route is now canary 10.00%"), std::string::npos)
      << run.why;
  // Resume re-locates (10% -> the 5% step).
  ResumeRun(plan, run, sim.snap, "ops");
  EXPECT_EQ(run.status, RunStatus::kRunning);
  EXPECT_EQ(run.step, 1);
}

TEST(Autopilot, TrippedFallbackIsAFailure) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 3);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  sim.snap.tripped = true;
  sim.Tick(250, 1);
  AutopilotDecision d;
  EXPECT_EQ(Drive(plan, run, sim, &d), Kind::kRollback);
  EXPECT_EQ(run.step, 2);
}

TEST(Autopilot, RollbackToLegacyPerPlanPausesTheRun) {
  auto plan = SmallPlan();
  plan.rollback_to = AutopilotPlan::RollbackTo::kLegacy;
  Sim sim;
  sim.snap.shape = StepShape(plan, 2);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  for (int i = 0; i < 20 && !d.failure; ++i) {
    sim.Tick(250, 20, 0.5);
    Drive(plan, run, sim, &d);
  }
  EXPECT_EQ(d.kind, Kind::kRollback);
  EXPECT_EQ(d.target, -1);
  EXPECT_EQ(sim.snap.shape.mode, Mode::kLegacy);
  EXPECT_EQ(run.status, RunStatus::kPaused);
}

TEST(Autopilot, OldNumbersDoNotJudgeTheNextStep) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 2);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  for (int i = 0; i < 20 && !d.failure; ++i) {
    sim.Tick(250, 10, 0.5);
    Drive(plan, run, sim, &d);
  }
  ASSERT_EQ(run.step, 1);
  // Modern healthy again: the errors of canary 25% are not in the new window.
  sim.Tick(250, 10, 0);
  Drive(plan, run, sim, &d);
  EXPECT_FALSE(d.failure) << d.reason;
  EXPECT_EQ(d.values.modern_errors, 0u);
}

TEST(Autopilot, RefusedRollbackHoldsAndRetries) {
  const auto plan = SmallPlan();
  Sim sim;
  sim.snap.shape = StepShape(plan, 2);
  auto run = StartRun(plan, sim.snap, nullptr, "ops");
  AutopilotDecision d;
  for (int i = 0; i < 20 && !d.failure; ++i) {
    sim.Tick(250, 10, 0.5);
    d = Evaluate(plan, run, sim.snap);
  }
  ASSERT_EQ(d.kind, Kind::kRollback);
  Refused(run, d, "replay backlog towards legacy: 3", sim.snap);
  EXPECT_EQ(run.step, 2);  // nothing forced
  EXPECT_EQ(run.failures, 0u);
  EXPECT_NE(run.why.find("rollback waiting: replay backlog towards legacy: 3"), std::string::npos);
  EXPECT_EQ(run.timeline.back().kind, "refused");
  sim.Tick(250, 10, 0.5);
  EXPECT_EQ(Evaluate(plan, run, sim.snap).kind, Kind::kRollback);  // tried again
}

TEST(Autopilot, TimelineFoldsRepeatedHoldsAndIsBounded) {
  AutopilotRun run;
  for (int i = 0; i < 5; ++i) {
    TimelineEntry e;
    e.at_ms = i;
    e.kind = "hold";
    e.reason = "same";
    AddTimeline(run, e);
  }
  ASSERT_EQ(run.timeline.size(), 1u);
  EXPECT_EQ(run.timeline[0].count, 5u);
  EXPECT_EQ(run.timeline[0].last_at_ms, 4);
  for (int i = 0; i < 500; ++i) {
    TimelineEntry e;
    e.kind = "hold";
    e.reason = std::to_string(i);
    AddTimeline(run, e);
  }
  EXPECT_EQ(run.timeline.size(), AutopilotRun::kTimelineMax);
}

TEST(AutopilotPlanParse, DefaultsAndErrorsNameTheKey) {
  auto p = ParseAutopilotPlan(json::value(nullptr), "autopilot");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->canary_steps_bp, (std::vector<uint32_t>{100, 500, 2500, 5000, 10000}));
  EXPECT_EQ(p->canary.min_s, 60u);
  EXPECT_EQ(p->pause_after, 3u);
  struct Case {
    const char* body;
    const char* error;
  } cases[] = {
      {R"({"canary":{"steps":[5,1]}})", "autopilot.canary.steps[1]: must be above the previous"},
      {R"({"canary":{"steps":[0]}})", "autopilot.canary.steps[0]: must be a percent above 0"},
      {R"({"canary":{"steps":[101]}})", "autopilot.canary.steps[0]"},
      {R"({"shadow":{"max_mismatch_rate":2}})", "autopilot.shadow.max_mismatch_rate: must be"},
      {R"({"gates":{"colour":1}})", "autopilot.gates.colour: unknown key"},
      {R"({"gates":{"error_rate":{"max_ratio":0.5}}})", "autopilot.gates.error_rate.max_ratio"},
      {R"({"check":{"url":"https://x:1/"}})", "autopilot.check.url: must be http://"},
      {R"({"check":{}})", "autopilot.check.url: is required"},
      {R"({"window":{"from":"18:00","to":"09:00"}})", "autopilot.window.to: must be after from"},
      {R"({"window":{"days":["monday"]}})", "autopilot.window.days[0]: must be one of"},
      {R"({"window":{"from":"9"}})", "autopilot.window.from: must be HH:MM"},
      {R"({"on_failure":{"rollback_to":"nowhere"}})", "autopilot.on_failure.rollback_to"},
      {R"({"tick_ms":1})", "autopilot.tick_ms: must be a whole number from 50"},
      {R"({"canary":{"min_s":1.5}})", "autopilot.canary.min_s: must be a whole number"},
      {R"([1])", "autopilot: must be an object"},
  };
  for (const auto& c : cases) {
    auto r = ParseAutopilotPlan(json::parse(c.body), "autopilot");
    ASSERT_FALSE(r) << c.body;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
  // Round trip.
  auto full = ParseAutopilotPlan(json::parse(R"({"canary":{"steps":[1,12.5,100]},
      "window":{"days":["sat"],"from":"01:30","to":"24:00"},
      "check":{"url":"http://localhost:9/v"},"notify":{"url":"http://127.0.0.1:9/hook"}})"),
                                 "a");
  ASSERT_TRUE(full) << full.error().message;
  auto again = ParseAutopilotPlan(AutopilotPlanToJson(*full), "a");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->canary_steps_bp, (std::vector<uint32_t>{100, 1250, 10000}));
  EXPECT_EQ(again->window.days, 1u << 5);
  EXPECT_EQ(again->window.from_min, 90u);
  EXPECT_EQ(again->check.url, "http://localhost:9/v");
}

TEST(AutopilotPlanParse, InTheYamlConfig) {
  const char* base = R"(
backends: {legacy: {url: "http://127.0.0.1:1"}, modern: {url: "http://127.0.0.1:2"}}
cohorts: {users: {key: ["header:X-User"], salt: s}}
routes:
  - name: get
    match: {path: /p, method: GET}
    cohort: users
    autopilot:
      canary: {steps: [1, 50], min_s: 3}
      window: {from: "09:00", to: "17:30"}
)";
  auto cfg = ParseConfig(base);
  ASSERT_TRUE(cfg) << cfg.error().message;
  const auto& plan = (*cfg)->routes[0].autopilot;
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->canary_steps_bp, (std::vector<uint32_t>{100, 5000}));
  EXPECT_EQ(plan->canary.min_s, 3u);
  EXPECT_EQ(plan->window.to_min, 17u * 60 + 30);

  auto bad = ParseConfig(std::string(base) + R"(
  - name: put
    match: {path: /p, method: PUT}
    cohort: users
    autopilot: {}
)");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("routes[1].autopilot: route group users already has a plan"),
            std::string::npos)
      << bad.error().message;
  auto bad_key = ParseConfig(R"(
backends: {legacy: {url: "http://127.0.0.1:1"}}
routes:
  - name: r
    match: {path: /p}
    autopilot: {canary: {min_s: -1}}
)");
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().message.find("routes[0].autopilot.canary.min_s"), std::string::npos)
      << bad_key.error().message;
  auto no_cohort = ParseConfig(R"(
backends: {legacy: {url: "http://127.0.0.1:1"}}
routes:
  - name: r
    match: {path: /p}
    autopilot: {}
)");
  ASSERT_FALSE(no_cohort);
  EXPECT_NE(no_cohort.error().message.find("routes[0].autopilot.canary.steps: route has no cohort"),
            std::string::npos)
      << no_cohort.error().message;
}

}  // namespace
}  // namespace ficus::proxy
