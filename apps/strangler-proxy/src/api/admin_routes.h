// Control-plane admin endpoints and the dashboard, served on the admin
// listener (plugged into AdminApi with AddHandler()).
//
//   GET  /                        dashboard (index.html; assets by name, also under /dashboard/)
//   GET  /admin/routes            every route with its live state
//   GET  /admin/routes/NAME       one route
//   PUT  /admin/routes/NAME       {"mode"?, "percent"?, "paused"?, "wait_s"?}   (token)
//   POST /admin/routes/NAME/reset-fallback   body empty or {"wait_s"?}       (token)
//
// Route groups (domain/route_group.h): a change or a fallback reset of one
// route applies to every route sharing its cohort, in one YAML write and one
// audit entry; the guard sums the group's replay backlog (a read route has
// no backlog of its own, its writes are the write route's). A fallback reset
// is guarded like the change it is (shadow -> the configured canary/full:
// modern gains users), 409 with the reason after wait_s.
//   GET  /admin/mismatches?route=NAME&limit=N   recent mismatches, newest first
//   GET  /admin/status            replay log, fallbacks, config generation, control store,
//                                 cdc (the binlog follower: state ok|lagging|unreachable|
//                                 not_configured, lag, events/s, last GTID; follower_status.h)
//
// Reads are open. Changes need `Authorization: Bearer <token>` from the token
// file (401 without one, 403 when not accepted or changes are disabled), are
// validated (400 naming the field), guarded (409 with the reason when the
// replay backlog towards the backend that would gain users does not drain
// within wait_s), written to the YAML file atomically (RouteStore), reloaded
// at once, and audit-logged (what, before, after, when, token name). The
// answer is the route as it runs after the change.
// Route object: name, method, path, prefix, cohort, group, mode (as running: a
// fallen-back route runs shadow), configured_mode, percent, paused,
// rates.{legacy,modern}.{rps (served), mirrored_rps, p50_ms, p99_ms,
// error_rate, requests} (latency and errors over served + mirrored answers),
// mismatch.{rate,count,compared,skipped,too_large}, backlog, backlog_to.{legacy,modern},
// mirror_inflight, fallback.{enabled,tripped,since,reason,error_rate,
// window_s,min_requests,window_total,window_errors}.
// Every change handler is authorize -> parse -> Apply(); Apply() alone
// guards, commits, audits and notifies; answers, the error shape
// ({"ret":status,"data":null,"msg":m}) and the error-to-status mapping are
// api/admin_reply.h.
// Threads: Handle() runs on the admin loop; everything it touches is
// thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "api/fleet_admin.h"
#include "api/live_config.h"
#include "api/proxy.h"
#include "domain/control_plane.h"
#include "domain/mode_guard.h"
#include "domain/replay_log.h"
#include "domain/route_store.h"
#include "ficus/http/message.h"
#include "service/audit_log.h"

namespace ficus::proxy {

struct AdminDeps {
  Proxy* proxy = nullptr;
  ControlPlane* control = nullptr;
  ReplayLog* replay_log = nullptr;  // nullptr: no replay log
  RouteStore* store = nullptr;
  AuditLog* audit = nullptr;  // nullptr: changes are not audited (logged only)
  // The config as configured (Configured()), reloaded after a change and
  // re-applied after a fallback reset.
  LiveConfig* config = nullptr;
  int64_t started_ms = 0;
  // The fleet (control.store: etcd); nullptr with the file store.
  FleetAdmin* fleet = nullptr;
  // The binlog follower for /admin/status ("cdc"; domain/follower_status.h).
  // Unset: {"state":"not_configured"}.
  std::function<boost::json::value()> cdc_json;
  // Called after an operator's change or fallback reset of `route` succeeded
  // (the autopilot pauses a plan driving its group).
  std::function<void(const std::string& route, const std::string& actor)> on_manual_change;
};

class AdminRoutes {
 public:
  explicit AdminRoutes(AdminDeps deps) : d_(std::move(deps)) {}
  boost::asio::awaitable<std::optional<http::Response>> Handle(http::Request& req);

  [[nodiscard]] boost::json::value RouteJson(const Route& configured) const;

  // The one path of every admin change of a route (PUT, reset-fallback and
  // the autopilot's steps), for the route's whole group:
  //   guard   the lossless-switch guard over the group's backlog towards the
  //           backend that gains users (waits up to cmd.wait_ms, then the
  //           reason; never forces);
  //   commit  kChange: the store (one write for the group), then a reload;
  //           kResetFallback: the fleet's trips (etcd) and the local ones,
  //           then a re-apply;
  //   audit   one entry (what, before, after, actor, and cmd.audit_extra
  //           under after.autopilot when not null);
  //   notify  cmd.manual: an autopilot driving the group pauses.
  // The route's JSON as it runs after, or kNotFound (no such route),
  // kConflict (the guard's reason), the store's error (kInvalidArgument,
  // kConflict for a stale If-Match, kUnavailable), kInternal (not reloaded,
  // audit failed); the caller maps it with AdminResult (api/admin_reply.h).
  struct Command {
    enum class Kind { kChange, kResetFallback };
    Kind kind = Kind::kChange;
    RouteChange change;  // kChange (change.actor is the actor of both kinds)
    uint32_t wait_ms = 0;
    boost::json::value audit_extra;  // null: none
    bool manual = true;              // an operator's (false: the autopilot's own step)
  };
  boost::asio::awaitable<Result<boost::json::value>> Apply(const std::string& name,
                                                           const Command& cmd);

 private:
  boost::asio::awaitable<http::Response> Change(http::Request& req, const std::string& name);
  boost::asio::awaitable<http::Response> ResetFallback(http::Request& req, const std::string& name);
  // Commit one command (after the guard); the audit entry's before/after.
  Result<std::pair<boost::json::value, boost::json::value>> Commit(
      const Config& cfg, const std::vector<std::string>& group, const std::string& name,
      const Command& cmd);
  boost::asio::awaitable<std::optional<std::string>> Guard(
      const Config& cfg, const std::vector<std::string>& group,
      const std::vector<std::pair<RouteShape, RouteShape>>& moves, uint32_t wait_ms) const;
  // Logs the change and appends it to the audit log; kInternal when the
  // audit log failed (the change itself is in force: `what` says so).
  ::ficus::Status Audit(const AuditEntry& e, const std::string& what) const;
  http::Response Routes() const;
  http::Response Mismatches(const http::Request& req) const;
  http::Response Status() const;

  AdminDeps d_;
};

}  // namespace ficus::proxy
