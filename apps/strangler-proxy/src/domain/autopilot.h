// Autopilot decisions: given a plan (domain/autopilot_plan.h), the run's
// state and a snapshot of the route group's live numbers, what to do now.
//
// Steps of a plan: 0 = shadow, 1..n = canary at each canary percent, n+1 =
// full. A run starts at the step matching the route's shape (Locate()).
//
// Gates, judged over a sliding window of `gates.window_s` that restarts at
// every step change (so numbers from before a change never judge it):
//   errors    fails when modern's error rate exceeds legacy's by more than
//             max_increase AND by more than max_ratio times (both: with
//             legacy at 0 errors the absolute margin decides); needs
//             min_samples modern answers (served + mirrored) in the window;
//   p99       fails when modern p99 > legacy p99 * max_ratio + slack_ms
//             (live 10 s latency windows; needs min_samples);
//   mismatch  fails when mismatched / compared > max_mismatch_rate over the
//             window's compared answers (needs min_compared). Comparisons
//             skipped because they raced with a write are not counted at all:
//             they are noise, not mismatches;
//   fallback  fails when the route group's auto-fallback tripped.
// A failing gate is a failure: roll back to the last good step (the one the
// run advanced from; or to legacy per plan), stay in shadow when in shadow;
// the `pause_after`-th failure also pauses the run for a human.
// With no failure the run advances when: the step is held min_s and saw
// min_requests client requests (shadow: min_compared compared answers with a
// step mismatch rate <= shadow.max_mismatch_rate), every gate has enough
// data, the replay backlog towards modern is 0 (gates.drained), the time is
// inside the plan's window, and the external check (if any) answered 2xx
// during this step. Otherwise it holds, and says why. At full, once held, the
// run is done.
// A route whose shape differs from the run's step (an operator changed it)
// pauses the run ("manual change").
//
// Pure: no I/O, no clock (time is the snapshot's now_ms). Thread-compatible.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "domain/autopilot_plan.h"
#include "domain/config.h"
#include "domain/mode_guard.h"

namespace ficus::proxy {

// Cumulative counters of a route group (they only grow; a drop, e.g. a
// replica leaving the fleet, restarts the window).
struct AutopilotCounters {
  uint64_t requests = 0;  // client requests served (either backend)
  uint64_t legacy_answers = 0;
  uint64_t legacy_errors = 0;
  uint64_t modern_answers = 0;  // served + mirrored
  uint64_t modern_errors = 0;
  uint64_t compared = 0;
  uint64_t mismatched = 0;
  uint64_t skipped = 0;
};

struct AutopilotCheck {
  bool ran = false;
  bool ok = false;
  int64_t at_ms = 0;   // when the answer (or the failure) came
  std::string detail;  // "HTTP 500", "timeout after 2000 ms", ...
};

struct AutopilotSnapshot {
  int64_t now_ms = 0;
  RouteShape shape;      // the route group's configured shape
  bool tripped = false;  // auto-fallback of the group
  AutopilotCounters counters;
  std::optional<double> legacy_p99_ms;
  std::optional<double> modern_p99_ms;
  uint64_t backlog_to_legacy = 0;
  uint64_t backlog_to_modern = 0;
  AutopilotCheck check;
};

enum class RunStatus { kRunning, kPaused, kDone, kAborted };
std::string_view RunStatusName(RunStatus s);

enum class GateState { kPass, kFail, kWait };  // wait = not enough data yet

struct GateResult {
  std::string name;  // errors, p99, mismatch, fallback, hold, drained, window, check
  GateState state = GateState::kWait;
  std::string detail;  // "modern 0.120 vs legacy 0.000 (max +0.010, x2)"
};

struct GateValues {
  int64_t window_ms = 0;
  uint64_t modern_answers = 0;
  uint64_t modern_errors = 0;
  uint64_t legacy_answers = 0;
  uint64_t legacy_errors = 0;
  std::optional<double> modern_error_rate;
  std::optional<double> legacy_error_rate;
  std::optional<double> modern_p99_ms;
  std::optional<double> legacy_p99_ms;
  uint64_t compared = 0;
  uint64_t mismatched = 0;
  uint64_t skipped = 0;
  std::optional<double> mismatch_rate;
  int64_t step_age_ms = 0;
  uint64_t step_requests = 0;
  uint64_t step_compared = 0;
  uint64_t step_mismatched = 0;
  uint64_t backlog_to_legacy = 0;
  uint64_t backlog_to_modern = 0;
  std::vector<GateResult> gates;
};

struct AutopilotDecision {
  enum class Kind { kHold, kAdvance, kRollback, kPause, kDone };
  Kind kind = Kind::kHold;
  // kAdvance/kRollback: the step to apply; -1 = legacy (rollback_to legacy).
  // kPause: the step to apply first (a rollback), or the current one.
  int target = 0;
  bool failure = false;     // a gate failed (counts towards pause_after)
  bool want_check = false;  // the driver should run the external check
  std::string reason;       // one line, says which gate and its values
  std::string key;          // holds: which conditions hold it ("hold:time,backlog")
  GateValues values;
};
std::string_view DecisionKindName(AutopilotDecision::Kind k);

struct TimelineEntry {
  int64_t at_ms = 0;
  int64_t last_at_ms = 0;  // repeated holds with the same reason are folded into one entry
  uint32_t count = 1;
  std::string kind;  // start, advance, hold, rollback, pause, done, resume, abort, refused
  std::string key;   // holds/refusals with the same key fold (values change every tick)
  int from_step = 0;
  int to_step = 0;
  std::string reason;
  std::string actor;  // autopilot or the operator's token name
  GateValues values;
};

struct AutopilotRun {
  RunStatus status = RunStatus::kRunning;
  int step = 0;
  int last_good = 0;  // where a rollback goes
  int64_t started_ms = 0;
  int64_t step_since_ms = 0;
  AutopilotCounters step_base;
  std::deque<std::pair<int64_t, AutopilotCounters>> samples;  // the gate window
  uint32_t failures = 0;
  std::string why;  // why it is paused / holding / done: one line
  std::deque<TimelineEntry> timeline;
  static constexpr size_t kTimelineMax = 200;
};

// Steps of `plan` (index -> shape); -1 is legacy.
int StepCount(const AutopilotPlan& plan);
RouteShape StepShape(const AutopilotPlan& plan, int step);
std::string StepLabel(const AutopilotPlan& plan, int step);  // "shadow", "canary 25%", "full"
// The step a route in `shape` is at: legacy/paused -> 0 (shadow is applied),
// canary p -> the highest canary step <= p (shadow below the first), full ->
// the last.
int Locate(const AutopilotPlan& plan, const RouteShape& shape);
// True when a route in `shape` is exactly at `step` (percent matters in canary).
bool AtStep(const AutopilotPlan& plan, int step, const RouteShape& shape);

// A new run at Locate(shape); the decision applies that step's shape when the
// route is not in it yet (kAdvance) else kHold.
AutopilotRun StartRun(const AutopilotPlan& plan, const AutopilotSnapshot& snap,
                      AutopilotDecision* first, const std::string& actor);

// Records the snapshot in the run's window and decides. Does not move the run
// to another step: call Commit() once the driver applied the decision (or
// Refused() when the guard or the store refused it).
AutopilotDecision Evaluate(const AutopilotPlan& plan, AutopilotRun& run,
                           const AutopilotSnapshot& snap);
void Commit(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotDecision& d,
            const AutopilotSnapshot& snap);
// The route was moved onto the run's current step (start off-step).
void Aligned(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotSnapshot& snap,
             const std::string& reason);
// True when it added a timeline entry (a repeated refusal is folded).
bool Refused(AutopilotRun& run, const AutopilotDecision& d, const std::string& why,
             const AutopilotSnapshot& snap);

// Operator actions (they reset the window and the failure count).
void PauseRun(AutopilotRun& run, const std::string& why, const std::string& actor, int64_t now_ms);
// Resumes at Locate(shape) (the operator may have moved the route meanwhile).
void ResumeRun(const AutopilotPlan& plan, AutopilotRun& run, const AutopilotSnapshot& snap,
               const std::string& actor);
void AbortRun(AutopilotRun& run, const std::string& actor, int64_t now_ms);

// Appends to the timeline (bounded; a hold or refusal with the same key as
// the last entry, or the same reason when it has no key, is folded into it:
// count, last_at, reason and values are updated). Returns true when a new entry was added (the
// driver audit-logs and notifies those).
bool AddTimeline(AutopilotRun& run, TimelineEntry e);

boost::json::value GateValuesToJson(const GateValues& v);
boost::json::value RunToJson(const AutopilotPlan& plan, const AutopilotRun& run,
                             size_t timeline_limit = AutopilotRun::kTimelineMax);

}  // namespace ficus::proxy
