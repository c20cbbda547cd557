// AutopilotDriver: runs autopilot plans (domain/autopilot.h) against the live
// proxy. One per proxy process, on its own thread and event loop.
//
// Every `plan.tick_ms` (default 500 ms) each running plan gets a snapshot of
// its route group's numbers (ControlPlane totals and latency windows, the
// replay backlog of this replica plus what the other replicas of a fleet
// report, the auto-fallback state, the last external check), evaluates it,
// and acts:
// - a step change (advance, rollback, the rollback of a pause) goes through
//   AdminRoutes::Apply(), the same path as an operator's PUT: the
//   lossless-switch guard (a refused rollback holds and is tried again next
//   tick; nothing is forced), the store, reload, and an audit entry with
//   actor "autopilot" and the decision's gate values under after.autopilot;
// - every other decision (hold with a new reason, a failure in shadow, a
//   pause, done) is audit-logged by the driver (token "autopilot"); repeated
//   holds with the same reason are folded into one timeline entry and one
//   audit line;
// - each new timeline entry is posted to the plan's notify.url (Slack-
//   compatible JSON: "text" plus the structured fields), in the background;
// - when the decision wants the external check, it is POSTed (JSON: group,
//   step, gate values) at most every check.interval_s, within
//   check.timeout_ms; 2xx passes, anything else (or no answer) holds.
// Operator calls (Begin/Pause/Resume/Abort) and OnManualChange() are
// thread-safe; a manual change of a driven group pauses its plan, as does a
// route shape the plan did not set (seen on the next tick).
// Run state is kept in `store` (domain/autopilot_store.h) at every change:
// a state file beside the config for a single proxy, etcd for a fleet. A
// step change is recorded as pending BEFORE it goes out and committed after,
// so a restarted proxy (or the replica taking over from a dead leader) knows
// whether it went through (domain/autopilot_state.h RecoverRun): a running
// plan carries on where it was, never entering a step twice; a route found
// elsewhere pauses the plan with the reason. A change whose pending state
// cannot be recorded is not made (the plan holds).
// Fleet (control.store etcd): only the replica whose store Leads() drives;
// the others show the leader's state (re-read every second) and refuse
// start/pause/resume/abort with 409 naming the leader. On becoming leader a
// replica reads every run from the store and recovers it first.
// Numbers: with `fleet` set (a fleet) the gates judge the sum of every
// replica's counters and the merged latency histograms, as the fleet
// dashboard does (domain/fleet_report.h), not this replica's alone.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/admin_routes.h"
#include "domain/autopilot.h"
#include "domain/autopilot_state.h"
#include "domain/autopilot_store.h"
#include "domain/control_plane.h"
#include "domain/fleet_report.h"
#include "domain/replay_log.h"
#include "domain/traffic_window.h"
#include "service/audit_log.h"
#include "service/webhook.h"

namespace ficus::proxy {

// Other replicas' numbers of one route (a fleet): summed counters and
// merged latency histograms.
struct FleetRouteNumbers {
  AutopilotCounters counters;
  LatencySketch legacy_latency;
  LatencySketch modern_latency;
};

inline FleetRouteNumbers FleetNumbersOf(const ReplicaRouteStats& t) {
  FleetRouteNumbers n;
  n.counters = {t.served,
                t.legacy_answers,
                t.legacy_answer_errors,
                t.modern_answers,
                t.modern_answer_errors,
                t.compared,
                t.mismatched,
                t.skipped};
  n.legacy_latency = t.legacy_latency;
  n.modern_latency = t.modern_latency;
  return n;
}

struct AutopilotDriverDeps {
  AdminRoutes* admin = nullptr;
  ControlPlane* control = nullptr;
  ReplayLog* replay_log = nullptr;  // nullptr: no replay log
  AuditLog* audit = nullptr;
  std::function<std::shared_ptr<const Config>()> configured;
  // Backlog the OTHER replicas report (fleet); unset: 0.
  std::function<uint64_t(const std::string& route, const std::string& backend)> fleet_backlog;
  // Unix ms; unset: the system clock.
  std::function<int64_t()> now_ms;
  // Where runs are kept and who leads; nullptr: memory only, always leads.
  AutopilotStore* store = nullptr;
  // A fleet: the OTHER replicas' numbers of one route (cumulative counters,
  // latency histograms); unset: this replica's alone.
  std::function<std::optional<FleetRouteNumbers>(const std::string& route)> fleet;
};

class AutopilotDriver {
 public:
  explicit AutopilotDriver(AutopilotDriverDeps deps);
  ~AutopilotDriver();
  AutopilotDriver(const AutopilotDriver&) = delete;
  AutopilotDriver& operator=(const AutopilotDriver&) = delete;

  // Recovers the kept runs when this process leads now (a single proxy;
  // a fleet replica does it when it becomes leader), then starts the thread.
  // An unreadable store is an error naming it (the caller refuses to start
  // rather than forget a running plan).
  Status Start();
  void Stop();

  // `name`: a route or route group name. `plan`: nullopt = the config's
  // `autopilot:` block of the group. kNotFound (no such route/group),
  // kInvalidArgument (no plan anywhere), kConflict (a plan runs already).
  Result<boost::json::value> Begin(const std::string& name,
                                   const std::optional<AutopilotPlan>& plan,
                                   const std::string& actor);
  Result<boost::json::value> Pause(const std::string& name, const std::string& actor);
  Result<boost::json::value> Resume(const std::string& name, const std::string& actor);
  Result<boost::json::value> Abort(const std::string& name, const std::string& actor);
  // One group's plan and run (`timeline` entries at most), or every group
  // with a plan (configured or started).
  Result<boost::json::value> Get(const std::string& name, size_t timeline) const;
  boost::json::value List() const;

  void OnManualChange(const std::string& route, const std::string& actor);

  struct GroupGauge {
    std::string group;
    int step = 0;
    bool running = false;
    uint32_t failures = 0;
  };
  std::vector<GroupGauge> Gauges() const;
  Notifier::Counts notify_counts() const { return notifier_.counts(); }

 private:
  struct Entry {
    std::string group;
    std::string route;   // the route the plan is keyed on (its group moves)
    std::string source;  // "config" or "api"
    AutopilotPlan plan;
    AutopilotRun run;
    AutopilotCheck check;
    bool pending_align = false;  // started off-step: move the route onto it first
    bool check_inflight = false;
    int64_t check_started_ms = 0;
    std::future<void> check_future;
    int64_t next_due_ms = 0;
    uint64_t id = 0;
    std::optional<AutopilotPending> pending;  // a step change sent, not yet committed
  };
  struct Target {
    std::string group;
    std::string route;
    std::optional<AutopilotPlan> config_plan;
  };
  Result<Target> Resolve(const std::string& name) const;
  AutopilotSnapshot SnapshotOf(const Entry& e) const;  // caller holds mu_
  int64_t Now() const;
  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> TickOne(const std::string& group);
  // Audit + notify one new timeline entry (caller holds no lock).
  void Record(const std::string& group, const std::string& route, const TimelineEntry& e,
              const std::string& status, const std::string& notify_url, bool audit);
  void LaunchCheck(Entry& e, const AutopilotDecision& d);  // caller holds mu_
  boost::json::value EntryJson(const Entry& e, size_t timeline) const;
  AutopilotRecord RecordOf(const Entry& e) const;
  boost::json::value DriverJson() const;
  // Writes e's record to the store (caller holds mu_).
  Status Persist(const Entry& e);
  bool Leads() const { return !d_.store || d_.store->Leads(); }
  // kConflict naming the leader when this replica does not drive.
  Status RequireLead() const;
  // Leader: read every kept run and recover it (who: "restart", "takeover").
  Status Restore(const std::string& who);
  // Follower: show the leader's state.
  void Refresh();

  AutopilotDriverDeps d_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;  // by group
  uint64_t next_id_ = 1;
  Notifier notifier_;
  bool restored_ = false;  // loop thread only (and Start before it)
  int64_t refreshed_ms_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ficus::proxy
