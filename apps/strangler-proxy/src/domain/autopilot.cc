#include "domain/autopilot.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

namespace ficus::proxy {
namespace {

namespace json = boost::json;
using Kind = AutopilotDecision::Kind;

std::string Fmt(const char* f, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a);
  return buf;
}

std::string Rate(double r) {
  return Fmt("%.3f", r);
}

AutopilotCounters Delta(const AutopilotCounters& now, const AutopilotCounters& base) {
  auto d = [](uint64_t a, uint64_t b) { return a >= b ? a - b : 0; };
  return {d(now.requests, base.requests),           d(now.legacy_answers, base.legacy_answers),
          d(now.legacy_errors, base.legacy_errors), d(now.modern_answers, base.modern_answers),
          d(now.modern_errors, base.modern_errors), d(now.compared, base.compared),
          d(now.mismatched, base.mismatched),       d(now.skipped, base.skipped)};
}

bool Dropped(const AutopilotCounters& now, const AutopilotCounters& base) {
  return now.requests < base.requests || now.legacy_answers < base.legacy_answers ||
         now.modern_answers < base.modern_answers || now.compared < base.compared;
}

// Restarts the gate window (and the step's counters) at `snap`.
void RestartWindow(AutopilotRun& run, const AutopilotSnapshot& snap) {
  run.step_since_ms = snap.now_ms;
  run.step_base = snap.counters;
  run.samples.clear();
  run.samples.emplace_back(snap.now_ms, snap.counters);
}

bool InWindow(const AutopilotPlan::Window& w, int64_t now_ms) {
  if (!w.enabled) return true;
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const int monday_based = (tm.tm_wday + 6) % 7;
  if (!(w.days & (1u << monday_based))) return false;
  const uint32_t minute = static_cast<uint32_t>(tm.tm_hour * 60 + tm.tm_min);
  return minute >= w.from_min && minute < w.to_min;
}

std::pair<std::string, std::string> Hold(std::string key, std::string text) {
  return {std::move(key), std::move(text)};
}

GateResult Gate(std::string name, GateState s, std::string detail) {
  return GateResult{std::move(name), s, std::move(detail)};
}

}  // namespace

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kPaused:
      return "paused";
    case RunStatus::kDone:
      return "done";
    case RunStatus::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::string_view DecisionKindName(Kind k) {
  switch (k) {
    case Kind::kHold:
      return "hold";
    case Kind::kAdvance:
      return "advance";
    case Kind::kRollback:
      return "rollback";
    case Kind::kPause:
      return "pause";
    case Kind::kDone:
      return "done";
  }
  return "unknown";
}

int StepCount(const AutopilotPlan& plan) {
  return static_cast<int>(plan.canary_steps_bp.size()) + 2;
}

RouteShape StepShape(const AutopilotPlan& plan, int step) {
  if (step < 0) return RouteShape{Mode::kLegacy, 0, false};
  if (step == 0) return RouteShape{Mode::kShadow, 0, false};
  if (step >= StepCount(plan) - 1) return RouteShape{Mode::kFull, 0, false};
  return RouteShape{Mode::kCanary, plan.canary_steps_bp[static_cast<size_t>(step - 1)], false};
}

std::string StepLabel(const AutopilotPlan& plan, int step) {
  if (step < 0) return "legacy";
  if (step == 0) return "shadow";
  if (step >= StepCount(plan) - 1) return "full";
  const uint32_t bp = plan.canary_steps_bp[static_cast<size_t>(step - 1)];
  return "canary " + (bp % 100 == 0 ? std::to_string(bp / 100) : Fmt("%.2f", bp / 100.0)) + "%";
}

int Locate(const AutopilotPlan& plan, const RouteShape& shape) {
  if (shape.paused) return 0;
  switch (shape.mode) {
    case Mode::kLegacy:
    case Mode::kShadow:
      return 0;
    case Mode::kFull:
      return StepCount(plan) - 1;
    case Mode::kCanary: {
      int step = 0;
      for (size_t i = 0; i < plan.canary_steps_bp.size(); ++i) {
        if (plan.canary_steps_bp[i] <= shape.percent_bp) step = static_cast<int>(i) + 1;
      }
      return step;
    }
  }
  return 0;
}

static bool SameShape(const RouteShape& a, const RouteShape& b) {
  if (a.mode != b.mode || a.paused != b.paused) return false;
  return a.mode != Mode::kCanary || a.percent_bp == b.percent_bp;
}

bool AtStep(const AutopilotPlan& plan, int step, const RouteShape& shape) {
  return SameShape(shape, StepShape(plan, step));
}

AutopilotRun StartRun(const AutopilotPlan& plan, const AutopilotSnapshot& snap,
                      AutopilotDecision* first, const std::string& actor) {
  AutopilotRun run;
  run.started_ms = snap.now_ms;
  run.step = Locate(plan, snap.shape);
  run.last_good = std::max(0, run.step - 1);
  RestartWindow(run, snap);
  AutopilotDecision d;
  d.target = run.step;
  const bool aligned = SameShape(snap.shape, StepShape(plan, run.step));
  d.kind = aligned ? Kind::kHold : Kind::kAdvance;
  d.reason = "plan started at " + StepLabel(plan, run.step) +
             (aligned ? ""
                      : " (route was " + std::string(ModeName(snap.shape.mode)) +
                            (snap.shape.mode == Mode::kCanary
                                 ? " " + Fmt("%.2f", snap.shape.percent_bp / 100.0) + "%"
                                 : "") +
                            (snap.shape.paused ? ", paused" : "") + ")");
  run.why = d.reason;
  TimelineEntry e;
  e.at_ms = snap.now_ms;
  e.kind = "start";
  e.from_step = e.to_step = run.step;
  e.reason = d.reason;
  e.actor = actor;
  AddTimeline(run, std::move(e));
  if (first) *first = std::move(d);
  return run;
}

AutopilotDecision Evaluate(const AutopilotPlan& plan, AutopilotRun& run,
                           const AutopilotSnapshot& snap) {
  AutopilotDecision d;
  d.target = run.step;
  // The window: samples at most window_s old (the oldest one older than that
  // is the base), never from before the step started.
  if (!run.samples.empty() && Dropped(snap.counters, run.samples.back().second)) {
    RestartWindow(run, snap);
  }
  run.samples.emplace_back(snap.now_ms, snap.counters);
  const int64_t window_ms = int64_t{plan.gates.window_s} * 1000;
  while (run.samples.size() > 2 && run.samples[1].first <= snap.now_ms - window_ms) {
    run.samples.pop_front();
  }
  const AutopilotCounters w = Delta(snap.counters, run.samples.front().second);
  const AutopilotCounters s = Delta(snap.counters, run.step_base);

  GateValues& v = d.values;
  v.window_ms = snap.now_ms - run.samples.front().first;
  v.modern_answers = w.modern_answers;
  v.modern_errors = w.modern_errors;
  v.legacy_answers = w.legacy_answers;
  v.legacy_errors = w.legacy_errors;
  if (w.modern_answers) v.modern_error_rate = double(w.modern_errors) / double(w.modern_answers);
  if (w.legacy_answers) v.legacy_error_rate = double(w.legacy_errors) / double(w.legacy_answers);
  v.modern_p99_ms = snap.modern_p99_ms;
  v.legacy_p99_ms = snap.legacy_p99_ms;
  v.compared = w.compared;
  v.mismatched = w.mismatched;
  v.skipped = w.skipped;
  if (w.compared) v.mismatch_rate = double(w.mismatched) / double(w.compared);
  v.step_age_ms = snap.now_ms - run.step_since_ms;
  v.step_requests = s.requests;
  v.step_compared = s.compared;
  v.step_mismatched = s.mismatched;
  v.backlog_to_legacy = snap.backlog_to_legacy;
  v.backlog_to_modern = snap.backlog_to_modern;

  if (run.status != RunStatus::kRunning) {
    d.reason = run.why;
    return d;
  }
  const RouteShape expected = StepShape(plan, run.step);
  if (!SameShape(snap.shape, expected)) {
    d.kind = Kind::kPause;
    d.reason =
        "manual change: the route is now " + std::string(ModeName(snap.shape.mode)) +
        (snap.shape.mode == Mode::kCanary ? " " + Fmt("%.2f", snap.shape.percent_bp / 100.0) + "%"
                                          : "") +
        (snap.shape.paused ? " (paused)" : "") + ", the plan had it at " +
        StepLabel(plan, run.step);
    return d;
  }

  // Failure gates.
  const auto& G = plan.gates;
  std::vector<std::string> failed;
  bool waiting_for_data = false;
  if (snap.tripped) {
    v.gates.push_back(Gate("fallback", GateState::kFail, "auto-fallback tripped"));
    failed.emplace_back("auto-fallback tripped");
  } else {
    v.gates.push_back(Gate("fallback", GateState::kPass, "not tripped"));
  }
  const double legacy_err = v.legacy_error_rate.value_or(0.0);
  if (w.modern_answers >= G.min_samples) {
    const double m = *v.modern_error_rate;
    const bool bad = m - legacy_err > G.max_error_increase && m > legacy_err * G.max_error_ratio;
    const std::string detail = "modern " + Rate(m) + " vs legacy " + Rate(legacy_err) + " (max +" +
                               Rate(G.max_error_increase) + " and x" +
                               Fmt("%g", G.max_error_ratio) + ", " +
                               std::to_string(w.modern_answers) + " answers)";
    v.gates.push_back(Gate("errors", bad ? GateState::kFail : GateState::kPass, detail));
    if (bad) failed.push_back("error rate " + detail);
  } else {
    waiting_for_data = true;
    v.gates.push_back(Gate("errors", GateState::kWait,
                           std::to_string(w.modern_answers) + " modern answers in the window, " +
                               std::to_string(G.min_samples) + " needed"));
  }
  if (w.modern_answers >= G.min_samples && snap.modern_p99_ms && snap.legacy_p99_ms) {
    const double limit = *snap.legacy_p99_ms * G.max_p99_ratio + G.p99_slack_ms;
    const bool bad = *snap.modern_p99_ms > limit;
    const std::string detail = "modern " + Fmt("%.1f", *snap.modern_p99_ms) + " ms vs legacy " +
                               Fmt("%.1f", *snap.legacy_p99_ms) + " ms (max " + Fmt("%.1f", limit) +
                               " ms)";
    v.gates.push_back(Gate("p99", bad ? GateState::kFail : GateState::kPass, detail));
    if (bad) failed.push_back("p99 " + detail);
  } else {
    // Blocks nothing by itself: legacy may get no traffic at all in full
    // (reads not mirrored); the errors gate already waits for modern samples.
    v.gates.push_back(Gate("p99", GateState::kWait, "not enough latency samples"));
  }
  if (w.compared >= G.min_compared) {
    const double r = *v.mismatch_rate;
    const bool bad = r > G.max_mismatch_rate;
    const std::string detail = Rate(r) + " of " + std::to_string(w.compared) + " compared (" +
                               std::to_string(w.mismatched) + " differ, " +
                               std::to_string(w.skipped) + " skipped; max " +
                               Rate(G.max_mismatch_rate) + ")";
    v.gates.push_back(Gate("mismatch", bad ? GateState::kFail : GateState::kPass, detail));
    if (bad) failed.push_back("mismatch rate " + detail);
  } else {
    // Canary and full compare fewer answers (only mirrored reads/writes); no
    // data here blocks nothing except in shadow, where it is the whole point.
    v.gates.push_back(Gate("mismatch", GateState::kWait,
                           std::to_string(w.compared) + " compared in the window, " +
                               std::to_string(G.min_compared) + " needed"));
  }

  if (!failed.empty()) {
    d.failure = true;
    std::string why;
    for (const auto& f : failed) why += (why.empty() ? "" : "; ") + f;
    const bool pause = run.failures + 1 >= plan.pause_after;
    int target = run.step;
    if (plan.rollback_to == AutopilotPlan::RollbackTo::kLegacy) {
      target = -1;
    } else if (run.step > 0) {
      target = std::min(run.last_good, run.step - 1);
    }
    d.target = target;
    const std::string at = " at " + StepLabel(plan, run.step);
    if (pause) {
      d.kind = Kind::kPause;
      d.reason = "gate failed" + at + ": " + why + "; " + std::to_string(run.failures + 1) +
                 " failures: paused for a human" +
                 (target != run.step ? " after rolling back to " + StepLabel(plan, target) : "");
    } else if (target != run.step) {
      d.kind = Kind::kRollback;
      d.reason = "gate failed" + at + ": " + why + "; rolling back to " + StepLabel(plan, target);
    } else {
      d.kind = Kind::kHold;
      d.reason = "gate failed" + at + ": " + why + " (failure " + std::to_string(run.failures + 1) +
                 " of " + std::to_string(plan.pause_after) + ")";
    }
    return d;
  }

  // Advance conditions.
  const bool last = run.step == StepCount(plan) - 1;
  std::vector<std::pair<std::string, std::string>> holds;  // key, text
  const AutopilotPlan::Hold& hold = last ? plan.full : plan.canary;
  if (v.step_age_ms < int64_t{hold.min_s} * 1000) {
    holds.push_back(Hold("time", "held " +
                                     Fmt("%.1f", static_cast<double>(v.step_age_ms) / 1000.0) +
                                     " s of " + std::to_string(hold.min_s) + " s"));
  }
  if (run.step == 0) {
    if (s.compared < plan.shadow.min_compared) {
      holds.push_back(Hold("compared", std::to_string(s.compared) + " of " +
                                           std::to_string(plan.shadow.min_compared) +
                                           " compared answers"));
    } else if (double(s.mismatched) / double(std::max<uint64_t>(1, s.compared)) >
               plan.shadow.max_mismatch_rate) {
      holds.push_back(Hold("shadow-mismatch", "shadow mismatch rate " +
                                                  Rate(double(s.mismatched) / double(s.compared)) +
                                                  " > " + Rate(plan.shadow.max_mismatch_rate)));
    }
  } else if (s.requests < hold.min_requests) {
    holds.push_back(Hold("requests", std::to_string(s.requests) + " of " +
                                         std::to_string(hold.min_requests) + " requests"));
  }
  v.gates.push_back(Gate("hold", holds.empty() ? GateState::kPass : GateState::kWait,
                         holds.empty() ? "held long enough" : holds.front().second));
  if (waiting_for_data)
    holds.push_back(Hold("data", "waiting for data (" + std::to_string(w.modern_answers) +
                                     " modern answers in the window)"));
  if (!last) {
    if (G.drained && snap.backlog_to_modern > 0) {
      holds.push_back(Hold(
          "backlog", "replay backlog towards modern: " + std::to_string(snap.backlog_to_modern)));
      v.gates.push_back(Gate("drained", GateState::kWait,
                             std::to_string(snap.backlog_to_modern) + " writes to replay"));
    } else {
      v.gates.push_back(Gate("drained", GateState::kPass, "no backlog towards modern"));
    }
    if (!InWindow(plan.window, snap.now_ms)) {
      holds.push_back(Hold("window", "outside the advance window"));
      v.gates.push_back(Gate("window", GateState::kWait, "outside the advance window"));
    } else if (plan.window.enabled) {
      v.gates.push_back(Gate("window", GateState::kPass, "inside the advance window"));
    }
  }
  if (!plan.check.url.empty() && holds.empty()) {
    const bool fresh = snap.check.ran && snap.check.at_ms >= run.step_since_ms;
    if (fresh && snap.check.ok) {
      v.gates.push_back(Gate("check", GateState::kPass, snap.check.detail));
    } else {
      d.want_check = true;
      if (fresh) {
        holds.push_back(Hold("check-failed", "check failed: " + snap.check.detail));
        v.gates.push_back(Gate("check", GateState::kFail, snap.check.detail));
      } else {
        holds.push_back(Hold("check-wait", "waiting for the external check"));
        v.gates.push_back(Gate("check", GateState::kWait, "not run in this step yet"));
      }
    }
  }
  if (!holds.empty()) {
    std::string why;
    for (const auto& [key, text] : holds) {
      why += (why.empty() ? "" : "; ") + text;
      d.key += (d.key.empty() ? "hold:" : ",") + key;
    }
    d.kind = Kind::kHold;
    d.reason = "holding at " + StepLabel(plan, run.step) + ": " + why;
    return d;
  }
  if (last) {
    d.kind = Kind::kDone;
    d.reason = "full held " + Fmt("%.1f", static_cast<double>(v.step_age_ms) / 1000.0) +
               " s with every gate passing: "
               "migration done";
    return d;
  }
  d.kind = Kind::kAdvance;
  d.target = run.step + 1;
  d.reason = "gates passed at " + StepLabel(plan, run.step) + ": advancing to " +
             StepLabel(plan, run.step + 1);
  return d;
}

void Commit(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotDecision& d,
            const AutopilotSnapshot& snap) {
  TimelineEntry e;
  e.at_ms = snap.now_ms;
  e.kind = std::string(DecisionKindName(d.kind));
  e.from_step = run.step;
  e.to_step = d.target;
  e.reason = d.reason;
  e.actor = "autopilot";
  e.values = d.values;
  if (d.failure) ++run.failures;
  switch (d.kind) {
    case Kind::kHold:
      if (d.failure) RestartWindow(run, snap);  // the next failure needs fresh evidence
      break;
    case Kind::kAdvance:
      run.last_good = run.step;
      run.step = d.target;
      RestartWindow(run, snap);
      break;
    case Kind::kRollback:
      run.step = d.target;
      run.last_good = std::max(0, d.target - 1);
      RestartWindow(run, snap);
      break;
    case Kind::kPause:
      run.status = RunStatus::kPaused;
      if (d.target != run.step) {
        run.step = d.target;
        run.last_good = std::max(0, d.target - 1);
      }
      RestartWindow(run, snap);
      break;
    case Kind::kDone:
      run.status = RunStatus::kDone;
      break;
  }
  if (d.target < 0 && d.kind != Kind::kHold) {
    // Rolled back to legacy: the plan has left its steps; a human decides.
    run.status = RunStatus::kPaused;
    run.step = 0;
  }
  run.why = d.reason;
  AddTimeline(run, std::move(e));
  (void)plan;
}

void Aligned(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotSnapshot& snap,
             const std::string& reason) {
  RestartWindow(run, snap);
  run.why = reason;
  TimelineEntry e;
  e.at_ms = snap.now_ms;
  e.kind = "advance";
  e.from_step = e.to_step = run.step;
  e.reason = reason;
  e.actor = "autopilot";
  AddTimeline(run, std::move(e));
  (void)plan;
}

bool Refused(AutopilotRun& run, const AutopilotDecision& d, const std::string& why,
             const AutopilotSnapshot& snap) {
  TimelineEntry e;
  e.at_ms = snap.now_ms;
  e.kind = "refused";
  e.key = "refused:" + std::to_string(d.target);
  e.from_step = run.step;
  e.to_step = d.target;
  e.reason = std::string(DecisionKindName(d.kind)) + " waiting: " + why + " (" + d.reason + ")";
  e.actor = "autopilot";
  e.values = d.values;
  run.why = e.reason;
  return AddTimeline(run, std::move(e));
}

void PauseRun(AutopilotRun& run, const std::string& why, const std::string& actor, int64_t now_ms) {
  run.status = RunStatus::kPaused;
  run.why = why;
  TimelineEntry e;
  e.at_ms = now_ms;
  e.kind = "pause";
  e.from_step = e.to_step = run.step;
  e.reason = why;
  e.actor = actor;
  AddTimeline(run, std::move(e));
}

void ResumeRun(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotSnapshot& snap,
               const std::string& actor) {
  const int from = run.step;
  run.status = RunStatus::kRunning;
  run.failures = 0;
  run.step = Locate(plan, snap.shape);
  run.last_good = std::max(0, run.step - 1);
  RestartWindow(run, snap);
  run.why = "resumed at " + StepLabel(plan, run.step);
  TimelineEntry e;
  e.at_ms = snap.now_ms;
  e.kind = "resume";
  e.from_step = from;
  e.to_step = run.step;
  e.reason = run.why;
  e.actor = actor;
  AddTimeline(run, std::move(e));
}

void AbortRun(AutopilotRun& run, const std::string& actor, int64_t now_ms) {
  run.status = RunStatus::kAborted;
  run.why = "aborted by " + actor + " (the route stays as it is)";
  TimelineEntry e;
  e.at_ms = now_ms;
  e.kind = "abort";
  e.from_step = e.to_step = run.step;
  e.reason = run.why;
  e.actor = actor;
  AddTimeline(run, std::move(e));
}

bool AddTimeline(AutopilotRun& run, TimelineEntry e) {
  if (!run.timeline.empty()) {
    auto& last = run.timeline.back();
    const bool same = e.key.empty() ? e.reason == last.reason : e.key == last.key;
    if ((e.kind == "hold" || e.kind == "refused") && e.kind == last.kind && same) {
      last.last_at_ms = e.at_ms;
      last.reason = std::move(e.reason);
      ++last.count;
      last.values = std::move(e.values);
      return false;
    }
  }
  if (e.last_at_ms == 0) e.last_at_ms = e.at_ms;
  run.timeline.push_back(std::move(e));
  while (run.timeline.size() > AutopilotRun::kTimelineMax) run.timeline.pop_front();
  return true;
}

json::value GateValuesToJson(const GateValues& v) {
  auto opt = [](const std::optional<double>& x) { return x ? json::value(*x) : json::value(); };
  json::array gates;
  for (const auto& g : v.gates) {
    gates.push_back(json::object{{"name", g.name},
                                 {"state", g.state == GateState::kPass   ? "pass"
                                           : g.state == GateState::kFail ? "fail"
                                                                         : "wait"},
                                 {"detail", g.detail}});
  }
  return json::object{{"window_ms", v.window_ms},
                      {"modern_answers", v.modern_answers},
                      {"modern_errors", v.modern_errors},
                      {"legacy_answers", v.legacy_answers},
                      {"legacy_errors", v.legacy_errors},
                      {"modern_error_rate", opt(v.modern_error_rate)},
                      {"legacy_error_rate", opt(v.legacy_error_rate)},
                      {"modern_p99_ms", opt(v.modern_p99_ms)},
                      {"legacy_p99_ms", opt(v.legacy_p99_ms)},
                      {"compared", v.compared},
                      {"mismatched", v.mismatched},
                      {"skipped", v.skipped},
                      {"mismatch_rate", opt(v.mismatch_rate)},
                      {"step_age_ms", v.step_age_ms},
                      {"step_requests", v.step_requests},
                      {"step_compared", v.step_compared},
                      {"step_mismatched", v.step_mismatched},
                      {"backlog_to_legacy", v.backlog_to_legacy},
                      {"backlog_to_modern", v.backlog_to_modern},
                      {"gates", std::move(gates)}};
}

json::value RunToJson(const AutopilotPlan& plan, const AutopilotRun& run, size_t timeline_limit) {
  json::array steps;
  for (int i = 0; i < StepCount(plan); ++i) steps.push_back(json::string(StepLabel(plan, i)));
  json::array timeline;
  const size_t n = run.timeline.size();
  for (size_t i = n > timeline_limit ? n - timeline_limit : 0; i < n; ++i) {
    const auto& e = run.timeline[i];
    timeline.push_back(json::object{{"at", e.at_ms},
                                    {"last_at", e.last_at_ms},
                                    {"count", e.count},
                                    {"kind", e.kind},
                                    {"from", StepLabel(plan, e.from_step)},
                                    {"to", StepLabel(plan, e.to_step)},
                                    {"reason", e.reason},
                                    {"actor", e.actor},
                                    {"gates", GateValuesToJson(e.values)}});
  }
  return json::object{{"status", std::string(RunStatusName(run.status))},
                      {"step", run.step},
                      {"step_label", StepLabel(plan, run.step)},
                      {"steps", std::move(steps)},
                      {"started_at", run.started_ms},
                      {"step_since", run.step_since_ms},
                      {"failures", run.failures},
                      {"why", run.why},
                      {"timeline", std::move(timeline)}};
}

}  // namespace ficus::proxy
