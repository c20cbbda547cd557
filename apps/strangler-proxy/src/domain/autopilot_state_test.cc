#include "domain/autopilot_state.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ficus::proxy {
namespace {

namespace json = boost::json;
using Kind = AutopilotDecision::Kind;

AutopilotPlan Plan() {
  auto p = ParseAutopilotPlan(json::parse(R"({
      "canary": {"steps": [5, 25, 100], "min_s": 2, "min_requests": 40},
      "check": {"url": "http://127.0.0.1:9/verify"}})"),
                              "autopilot");
  EXPECT_TRUE(p) << p.error().message;
  return *p;
}

AutopilotRecord Running(int step) {
  AutopilotRecord r;
  r.group = "users";
  r.route = "put";
  r.source = "config";
  r.plan = Plan();
  AutopilotSnapshot s;
  s.now_ms = 1000;
  s.shape = StepShape(r.plan, step);
  r.run = StartRun(r.plan, s, nullptr, "ops");
  return r;
}

AutopilotSnapshot At(const AutopilotPlan& plan, int step, int64_t now = 50000) {
  AutopilotSnapshot s;
  s.now_ms = now;
  s.shape = StepShape(plan, step);
  s.counters.requests = 7;  // a new process: counters from 0 again
  return s;
}

int Count(const AutopilotRun& run, const std::string& kind, int to) {
  int n = 0;
  for (const auto& e : run.timeline) n += e.kind == kind && e.to_step == to;
  return n;
}

TEST(AutopilotState, RoundTripKeepsRunTimelinePlanAndPending) {
  AutopilotRecord r = Running(1);
  r.run.failures = 2;
  r.run.why = "holding: time";
  r.pending = AutopilotPending{Kind::kAdvance, 2, false, "gates passed", {}};
  r.pending->values.modern_error_rate = 0.25;
  r.pending->values.gates.push_back({"errors", GateState::kFail, "modern 0.250"});
  const std::string text = EncodeAutopilotRecord(r);
  auto back = DecodeAutopilotRecord(text, "k");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->group, "users");
  EXPECT_EQ(back->route, "put");
  EXPECT_EQ(back->run.step, 1);
  EXPECT_EQ(back->run.failures, 2u);
  EXPECT_EQ(back->run.why, "holding: time");
  EXPECT_EQ(back->run.status, RunStatus::kRunning);
  ASSERT_EQ(back->run.timeline.size(), r.run.timeline.size());
  EXPECT_EQ(back->run.timeline.front().kind, "start");
  EXPECT_EQ(back->run.timeline.front().actor, "ops");
  EXPECT_EQ(back->plan.canary_steps_bp, (std::vector<uint32_t>{500, 2500, 10000}));
  EXPECT_EQ(back->plan.check.url, "http://127.0.0.1:9/verify");
  ASSERT_TRUE(back->pending);
  EXPECT_EQ(back->pending->target, 2);
  EXPECT_EQ(back->pending->values.modern_error_rate, 0.25);
  ASSERT_EQ(back->pending->values.gates.size(), 1u);
  EXPECT_EQ(back->pending->values.gates[0].state, GateState::kFail);
  EXPECT_EQ(EncodeAutopilotRecord(*back), text);

  auto many = DecodeAutopilotRecords(EncodeAutopilotRecords({r, Running(0)}), "f");
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_EQ(many->size(), 1u);  // one record per group: the later one wins
}

TEST(AutopilotState, BadTextNamesTheKeyAndField) {
  auto e = DecodeAutopilotRecord("{", "/ficus/autopilot/plans/users");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("/ficus/autopilot/plans/users: not valid JSON"),
            std::string::npos);
  json::value v = json::parse(EncodeAutopilotRecord(Running(1)));
  v.as_object()["run"].as_object()["step"] = 9;
  e = DecodeAutopilotRecord(json::serialize(v), "f");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("run.step: not a step of the plan"), std::string::npos)
      << e.error().message;
  v.as_object()["run"].as_object()["step"] = "x";
  e = DecodeAutopilotRecord(json::serialize(v), "f");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("run.step: must be an integer"), std::string::npos);
  v.as_object()["run"].as_object()["step"] = 1;
  v.as_object()["plan"].as_object()["canary"].as_object()["steps"] = json::array{25, 5};
  e = DecodeAutopilotRecord(json::serialize(v), "f");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("plan.canary.steps[1]"), std::string::npos) << e.error().message;
}

TEST(AutopilotRecover, PendingChangeThatWentThroughIsCommittedOnce) {
  AutopilotRecord r = Running(1);
  r.pending = AutopilotPending{Kind::kAdvance, 2, false, "gates passed at canary 5%", {}};
  auto e = RecoverRun(r, At(r.plan, 2), "takeover by replica b");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "advance");
  EXPECT_EQ(e->to_step, 2);
  EXPECT_NE(e->reason.find("applied before the takeover by replica b"), std::string::npos);
  EXPECT_EQ(r.run.step, 2);
  EXPECT_EQ(r.run.last_good, 1);
  EXPECT_EQ(r.run.status, RunStatus::kRunning);
  EXPECT_FALSE(r.pending);
  EXPECT_EQ(Count(r.run, "advance", 2), 1);
  EXPECT_EQ(r.run.step_since_ms, 50000);
  // Taken up again (another takeover): nothing pending, the route at the
  // step: it carries on, no second entry into the step.
  e = RecoverRun(r, At(r.plan, 2, 60000), "restart");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "recover");
  EXPECT_EQ(Count(r.run, "advance", 2), 1);
  EXPECT_EQ(r.run.step_since_ms, 60000);
  EXPECT_EQ(r.run.step_base.requests, 7u);
}

TEST(AutopilotRecover, PendingChangeThatDidNotGoOutCarriesOnAtTheStep) {
  AutopilotRecord r = Running(1);
  r.pending = AutopilotPending{Kind::kAdvance, 2, false, "gates passed", {}};
  auto e = RecoverRun(r, At(r.plan, 1), "restart");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, "recover");
  EXPECT_EQ(r.run.step, 1);
  EXPECT_FALSE(r.pending);
  EXPECT_EQ(Count(r.run, "advance", 2), 0);
  EXPECT_EQ(r.run.status, RunStatus::kRunning);
}

TEST(AutopilotRecover, RouteMovedElsewhereMeanwhilePausesWithTheReason) {
  AutopilotRecord r = Running(2);
  AutopilotSnapshot s = At(r.plan, 0);
  s.shape = RouteShape{Mode::kCanary, 1000, false};
  auto e = RecoverRun(r, s, "restart");
  ASSERT_TRUE(e);
  EXPECT_EQ(r.run.status, RunStatus::kPaused);
  EXPECT_EQ(r.run.why,
            "restart: the route is canary 10% but the plan was at canary 25% (resume or abort)");
}

TEST(AutopilotRecover, PausedAndDoneRunsAreLeftAlone) {
  AutopilotRecord r = Running(1);
  PauseRun(r.run, "paused by ops", "ops", 2000);
  const size_t n = r.run.timeline.size();
  EXPECT_FALSE(RecoverRun(r, At(r.plan, 3), "restart"));
  EXPECT_EQ(r.run.status, RunStatus::kPaused);
  EXPECT_EQ(r.run.why, "paused by ops");
  EXPECT_EQ(r.run.timeline.size(), n);
}

}  // namespace
}  // namespace ficus::proxy
