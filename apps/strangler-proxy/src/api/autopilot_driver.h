// AutopilotDriver: runs autopilot plans (domain/autopilot.h) against the live
// proxy. One per proxy process, on its own thread and event loop.
//
// Every `plan.tick_ms` (default 500 ms) each running plan gets a snapshot of
// its route group's numbers (ControlPlane totals and latency windows, the
// replay backlog of this replica plus what the other replicas of a fleet
// report, the auto-fallback state, the last external check), evaluates it,
// and acts:
// - a step change (advance, rollback, the rollback of a pause) goes through
//   AdminRoutes::ApplyChange(), the same path as an operator's PUT: the
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
// Run state lives in memory: after a restart a plan is started again and
// resumes from the route's shape (Locate), the route itself never moves by
// a restart.
// Fleet (control.store etcd): `drives` says whether this replica leads; the
// others evaluate nothing (see CONTROL_PLANE.md).
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
#include "domain/control_plane.h"
#include "domain/write_journal.h"
#include "service/audit_log.h"
#include "service/webhook.h"

namespace ficus::proxy {

struct AutopilotDriverDeps {
  AdminRoutes* admin = nullptr;
  ControlPlane* control = nullptr;
  WriteJournal* journal = nullptr;  // nullptr: no replay log
  AuditLog* audit = nullptr;
  std::function<std::shared_ptr<const Config>()> configured;
  // Backlog the OTHER replicas report (fleet); unset: 0.
  std::function<uint64_t(const std::string& route, const std::string& backend)> fleet_backlog;
  // Unix ms; unset: the system clock.
  std::function<int64_t()> now_ms;
  // Fleet: true while this replica drives the plans; unset: always.
  std::function<bool()> drives;
};

class AutopilotDriver {
 public:
  explicit AutopilotDriver(AutopilotDriverDeps deps);
  ~AutopilotDriver();
  AutopilotDriver(const AutopilotDriver&) = delete;
  AutopilotDriver& operator=(const AutopilotDriver&) = delete;

  void Start();
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

  AutopilotDriverDeps d_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;  // by group
  uint64_t next_id_ = 1;
  Notifier notifier_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ficus::proxy
