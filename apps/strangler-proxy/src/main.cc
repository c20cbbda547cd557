// ficus-proxy: the strangler proxy. Wires config file, proxy, servers,
// health checks, reload and drain, and the migration control plane
// (comparison, durable replay log + replayer, auto-fallback, admin API,
// dashboard) together; nothing else lives here.
// Command line: startup.h.
//
// Control state: with `control.store: etcd` the routes' mode, percent, pause
// and fleet-wide fallbacks come from etcd (model/etcd_control_store.h),
// overlaid on the YAML file's routes, and every replica follows changes
// through a watch; with the default file store the YAML file is the state.
//
// Signals (service/process_loop.h): SIGHUP reloads the config (as does any
// change of the file, polled every 500 ms); SIGTERM/SIGINT drain gracefully
// (stop accepting, finish in-flight requests and their mirrors, at most
// drain_timeout_ms) and exit 0.
// Exit codes: 0 clean, 1 runtime failure, 2 bad command line or config.
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <csignal>

#include "api/admin.h"
#include "api/admin_autopilot.h"
#include "api/admin_routes.h"
#include "api/autopilot_driver.h"
#include "api/control_plane_sink.h"
#include "api/fleet_admin.h"
#include "api/follower_watch.h"
#include "api/health.h"
#include "api/listeners.h"
#include "api/live_config.h"
#include "api/mismatch_recheck.h"
#include "api/proxy.h"
#include "api/replica_report.h"
#include "api/status_metrics.h"
#include "ficus/clock.h"
#include "model/autopilot_stores.h"
#include "model/config_file.h"
#include "model/etcd_control_store.h"
#include "model/http_replay_sender.h"
#include "model/intent_log.h"
#include "model/replay_startup.h"
#include "model/yaml_route_store.h"
#include "service/access_log.h"
#include "service/audit_log.h"
#include "service/process_loop.h"
#include "startup.h"

namespace asio = boost::asio;
using namespace ficus;         // NOLINT(google-build-using-namespace): main wires everything
using namespace ficus::proxy;  // NOLINT(google-build-using-namespace)

namespace {

int Fail(int code, const std::string& what) {
  spdlog::error("{}", what);
  return code;
}

int ExitCodeOf(const Error& e) {
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = ParseFlags(argc, argv);
  if (!parsed.flags) return parsed.exit_code;
  const ProxyFlags& flags = *parsed.flags;
  const std::string& config_path = flags.config_path;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ proxy %v", spdlog::pattern_time_type::utc);
  std::signal(SIGPIPE, SIG_IGN);

  // The config as the file says, with the control store's route state laid
  // over it (etcd); the proxy runs it with fallback overrides.
  ConfigFile config_file(config_path);
  auto cfg = config_file.Load();
  if (!cfg) return Fail(2, "config rejected: " + cfg.error().message);
  const Config& first = **cfg;
  const std::string config_dir = DirOf(config_path);
  const std::string replica_id = ReplicaIdFor(flags, first);
  const int64_t started_ms = UnixMillis(SystemClock::WallNow());
  SystemClock clock;
  MetricsRegistry metrics;
  AccessLog access_log;
  if (auto s = access_log.Open(first.access_log); !s) return Fail(2, s.error().message);
  asio::io_context control(1);  // control loop (main thread)
  ControlPlane control_plane(clock);
  LiveConfig live_config(config_file, *cfg, control_plane, metrics, control.get_executor());
  auto configured = [&live_config] { return live_config.Configured(); };
  std::unique_ptr<EtcdControlStore> etcd;
  if (first.control.store == Config::Control::Store::kEtcd) {
    auto store = EtcdControlStore::OpenFor(first.control, replica_id, configured,
                                           [&live_config] { live_config.OnFleetChange(); });
    if (!store) return Fail(ExitCodeOf(store.error()), "control store: " + store.error().message);
    etcd = std::move(*store);
    spdlog::info("control store: etcd {} prefix {} as replica {} (revision {}{}{})",
                 fmt::join(first.control.endpoints, ","), first.control.prefix, replica_id,
                 etcd->State().revision, first.control.tls.enabled ? ", tls" : "",
                 first.control.auth_user.empty() ? "" : ", user " + first.control.auth_user);
    live_config.AttachFleet(etcd.get(), replica_id);
  }

  // Control plane: durable replay log and its replayer, write intents, audit.
  const auto replay_opts = FileReplayLogOptionsFor(first, flags.replay_dir, config_dir);
  auto opened_log = OpenReplayLog(replay_opts);
  if (!opened_log) return Fail(1, opened_log.error().message);
  FileReplayLog& replay_log = **opened_log;
  IntentLog intents(replay_opts.dir);
  auto audit = AuditLog::Open(first.admin_audit_log.empty() ? config_dir + "/audit.log"
                                                            : first.admin_audit_log);
  if (!audit) return Fail(2, audit.error().message);
  ControlPlaneSink sink(
      control_plane, &replay_log, metrics, first.replay.durable_to_legacy,
      [&live_config](const std::string& route, const std::string& reason) {
        live_config.OnTrip(route, reason);
      },
      first.replay.durable_to_modern);
  Proxy proxy(metrics, ProxyHooks{&sink, &sink, &sink, &sink, &intents}, clock, access_log);
  if (auto s = live_config.Start(proxy); !s) {
    return Fail(2, "config rejected: " + config_path + ": " + s.error().message);
  }
  auto resolve_up = [&proxy](const std::string& backend) { return proxy.UpTarget(backend); };
  HttpReplaySender replay_sender(resolve_up, 5000,
                                 [&sink](const ReplayRecord& r) { sink.OnReplayed(r.user_key); });
  MismatchRechecker rechecker(
      control_plane,
      {[&proxy] { return proxy.runtime()->config; }, resolve_up,
       [&sink](std::string_view user, const std::string& legacy, const std::string& modern) {
         return sink.UserBusy(user, legacy, modern);
       },
       &clock},
      metrics);
  sink.SetRechecker(&rechecker);
  ReplayConsumer replayer(replay_log, replay_sender, 2);
  replayer.Start();

  // The proxy's listener: large pass-through bodies stream (Proxy::StreamBody).
  const unsigned threads = WorkersFor(flags, first);
  auto server_options = ServerOptionsFor(first, first.listen, threads);
  server_options.stream_body = [&proxy](const http::Request& head) {
    return proxy.StreamBody(head);
  };
  http::Server server(std::move(server_options),
                      [&proxy](http::Request& r) { return proxy.Handle(r); });

  // Admin API, dashboard, binlog follower status, autopilot.
  YamlRouteStore yaml_store(config_path);
  FollowerWatch follower(configured);
  AutopilotDriver* autopilot_ptr = nullptr;  // set below: a manual change pauses its plan
  std::unique_ptr<FleetAdmin> fleet_admin =
      etcd ? std::make_unique<FleetAdmin>(*etcd, replica_id, live_config) : nullptr;
  AdminRoutes admin_routes(
      AdminDeps{.proxy = &proxy,
                .control = &control_plane,
                .replay_log = &replay_log,
                .store = etcd ? static_cast<RouteStore*>(etcd.get()) : &yaml_store,
                .audit = audit->get(),
                .config = &live_config,
                .started_ms = started_ms,
                .fleet = fleet_admin.get(),
                .cdc_json = [&follower] { return follower.Json(); },
                .on_manual_change =
                    [&autopilot_ptr](const std::string& route, const std::string& actor) {
                      if (autopilot_ptr) autopilot_ptr->OnManualChange(route, actor);
                    }});
  auto autopilot_stores = OpenAutopilotStore(first, replica_id, config_dir);
  if (!autopilot_stores) {
    return Fail(ExitCodeOf(autopilot_stores.error()),
                "autopilot: " + autopilot_stores.error().message);
  }
  AutopilotDriverDeps autopilot_deps{.admin = &admin_routes,
                                     .control = &control_plane,
                                     .replay_log = &replay_log,
                                     .audit = audit->get(),
                                     .configured = configured,
                                     .store = autopilot_stores->store.get()};
  if (fleet_admin) {
    autopilot_deps.fleet_backlog = [&fleet_admin](const std::string& r, const std::string& b) {
      return fleet_admin->Backlog(r, b);
    };
    autopilot_deps.fleet = [&](const std::string& route) -> std::optional<FleetRouteNumbers> {
      return FleetNumbersOf(FleetTotal(etcd->Replicas(), route, replica_id));
    };
  }
  AutopilotDriver autopilot(std::move(autopilot_deps));
  autopilot_ptr = &autopilot;
  AdminAutopilot admin_autopilot(autopilot, configured);
  AdminApi admin_api(metrics, proxy);
  admin_api.AddHandler([&admin_autopilot](http::Request& r) { return admin_autopilot.Handle(r); });
  admin_api.AddHandler([&admin_routes](http::Request& r) { return admin_routes.Handle(r); });
  auto admin =
      AdminListener::Open(first, [&admin_api](http::Request& r) { return admin_api.Handle(r); });
  if (!admin) return Fail(2, admin.error().message);

  // Every part's metrics, declared where the part lives.
  AddServerMetrics(metrics, server);
  AddReplayMetrics(metrics, replay_log, configured);
  AddRouteMetrics(metrics, control_plane, configured);
  if (etcd) AddFleetMetrics(metrics, *etcd);
  intents.AddMetrics(metrics);
  AddFollowerMetrics(metrics, follower.monitor());
  AddAutopilotMetrics(metrics, autopilot);

  // Serve: kept plans are read back first (an admin GET right after the
  // ready file sees them).
  if (auto st = autopilot.Start(); !st) return Fail(2, "autopilot: " + st.error().message);
  auto port = server.Start();
  if (!port) return Fail(1, "listen " + first.listen.ToString() + ": " + port.error().message);
  auto admin_port = (*admin)->Start();
  if (!admin_port) {
    server.Drain(std::chrono::seconds(0));
    return Fail(1, admin_port.error().message);
  }
  spdlog::info("serving on {}:{} with {} event loops; admin on {}:{}; config generation 1",
               first.listen.host, *port, threads, first.admin_listen.host, *admin_port);
  if (!flags.ready_file.empty()) WriteReadyFile(flags.ready_file, *port, *admin_port);
  HealthChecker health(control.get_executor(), proxy);
  health.Start();
  follower.Start();
  if (autopilot_stores->lease) autopilot_stores->lease->Start();
  const std::string admin_at = first.admin_listen.host + ":" + std::to_string(*admin_port);
  if (etcd) {
    etcd->Start(
        [&] { return BuildReplicaReport(admin_at, *configured(), control_plane, replay_log); });
  }

  ProcessLoopHooks hooks;
  hooks.on_reload = [&] { (void)live_config.Reload("SIGHUP"); };
  hooks.on_tick = [&, ticks = 0]() mutable {
    live_config.PollSource();
    if (++ticks % 2 == 0) access_log.Flush();
  };
  hooks.begin_drain = [&](int sig) {
    spdlog::info("signal {}: draining (at most {} ms)", sig,
                 proxy.runtime()->config->drain_timeout_ms);
    proxy.BeginDrain();
    health.Stop();
  };
  hooks.drain = [&] {
    const bool clean =
        server.Drain(std::chrono::milliseconds(proxy.runtime()->config->drain_timeout_ms));
    (*admin)->Drain(std::chrono::milliseconds(500));
    access_log.Flush();
    spdlog::info("drained ({}); mirrors still in flight: {}", clean ? "clean" : "forced",
                 proxy.MirrorsInFlight());
  };
  ProcessLoop loop(control, std::move(hooks));
  loop.Run();
  intents.FlushAll();  // the loops stopped: their last settles
  follower.Stop();
  autopilot.Stop();
  if (autopilot_stores->lease) autopilot_stores->lease->Stop();  // hands the plans over at once
  if (etcd) etcd->Stop();  // revokes the lease: leaves the fleet at once
  replayer.Stop();
  rechecker.Stop();
  spdlog::info("replay log: {} writes pending at exit", replay_log.Stats().backlog);
  access_log.Flush();
  return 0;
}
