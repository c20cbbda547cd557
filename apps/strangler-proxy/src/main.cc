// ficus-proxy: the strangler proxy. Wires config file, proxy, servers,
// health checks, reload and drain, and the migration control plane
// (comparison, durable replay log + replayer, auto-fallback, admin API,
// dashboard) together; nothing else lives here.
//
//   ficus-proxy --config ficus.yaml [--ready-file PATH] [--workers N] [--replay-dir DIR]
//               [--replica-id ID]
//
// Control state: with `control.store: etcd` the routes' mode, percent, pause
// and fleet-wide fallbacks come from etcd (model/etcd_control_store.h),
// overlaid on the YAML file's routes, and every replica follows changes
// through a watch; with the default file store the YAML file is the state.
//
// Signals: SIGHUP reloads the config (as does any change of the file, polled
// every 500 ms); SIGTERM/SIGINT drain gracefully (stop accepting, finish
// in-flight requests and their mirrors, at most drain_timeout_ms) and exit 0.
// Exit codes: 0 clean, 1 runtime failure, 2 bad command line or config.
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "api/admin.h"
#include "api/admin_autopilot.h"
#include "api/admin_routes.h"
#include "api/autopilot_driver.h"
#include "api/control_plane_sink.h"
#include "api/fleet_admin.h"
#include "api/health.h"
#include "api/live_config.h"
#include "api/mismatch_recheck.h"
#include "api/proxy.h"
#include "api/status_metrics.h"
#include "domain/control_plane.h"
#include "domain/control_state.h"
#include "domain/fleet_report.h"
#include "domain/follower_status.h"
#include "ficus/clock.h"
#include "ficus/http/server.h"
#include "ficus/http/tls.h"
#include "ficus/http/tls_front.h"
#include "ficus/metrics.h"
#include "model/autopilot_file_store.h"
#include "model/config_file.h"
#include "model/etcd_autopilot_store.h"
#include "model/etcd_client_options.h"
#include "model/etcd_control_store.h"
#include "model/http_replay_sender.h"
#include "model/intent_log.h"
#include "model/replay_journal.h"
#include "model/replay_log.h"
#include "model/yaml_route_store.h"
#include "service/access_log.h"
#include "service/audit_log.h"
#include "service/metrics_scraper.h"

namespace asio = boost::asio;
using namespace ficus;         // NOLINT(google-build-using-namespace): main wires everything
using namespace ficus::proxy;  // NOLINT(google-build-using-namespace)

namespace {

http::ServerOptions ServerOptionsFor(const Config& cfg, const HostPort& listen, unsigned threads) {
  http::ServerOptions o;
  o.address = listen.host == "localhost" ? "127.0.0.1" : listen.host;
  o.port = listen.port;
  o.threads = threads;
  o.limits.max_header_bytes = cfg.limits.max_header_bytes;
  o.limits.max_uri_bytes = cfg.limits.max_uri_bytes;
  o.limits.max_body_bytes = cfg.limits.max_body_bytes;
  o.header_timeout = std::chrono::milliseconds(cfg.limits.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(cfg.limits.body_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  return o;
}

std::string DirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "proxy";
  return buf;
}

int64_t UnixMs() {
  return UnixMillis(SystemClock::WallNow());
}

// The etcd control store as the fleet LiveConfig follows.
class EtcdFleet final : public FleetControl {
 public:
  explicit EtcdFleet(EtcdControlStore& store) : store_(store) {}
  [[nodiscard]] ControlState State() const override { return store_.State(); }
  Status PublishTrip(const std::string& route, const FleetTrip& trip) override {
    return store_.PublishTrip(route, trip);
  }
  Status ClearTrips(const std::vector<std::string>& routes) override {
    return store_.ClearTrips(routes);
  }
  [[nodiscard]] std::vector<ReplicaReport> Replicas() const override { return store_.Replicas(); }
  [[nodiscard]] bool connected() const override { return store_.connected(); }
  [[nodiscard]] int64_t down_since_ms() const override { return store_.down_since_ms(); }

 private:
  EtcdControlStore& store_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ficus-proxy: strangler-fig reverse proxy"};
  std::string config_path;
  std::string ready_file;
  unsigned workers_flag = 0;
  std::string replay_dir_flag;
  std::string replica_id_flag;
  app.add_option("--config,-c", config_path, "YAML config file")->required();
  app.add_option("--ready-file", ready_file,
                 "write {\"listen\":PORT,\"admin\":PORT} here once serving");
  app.add_option("--workers", workers_flag, "event loops (overrides the config; 0 = config)");
  app.add_option("--replay-dir", replay_dir_flag,
                 "replay log directory (overrides replay.dir; one process per directory, so "
                 "replicas sharing a config file on one host need their own)");
  app.add_option("--replica-id", replica_id_flag,
                 "this replica's name in the fleet (control.store etcd; overrides "
                 "control.replica_id; default: the host name)");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ proxy %v", spdlog::pattern_time_type::utc);
  std::signal(SIGPIPE, SIG_IGN);

  ConfigFile config_file(config_path);
  auto cfg = config_file.Load();
  if (!cfg) {
    spdlog::error("config rejected: {}", cfg.error().message);
    return 2;
  }
  const Config& first = **cfg;

  const int64_t started_ms = UnixMs();
  MetricsRegistry metrics;
  AccessLog access_log;
  if (auto s = access_log.Open(first.access_log); !s) {
    spdlog::error("{}", s.error().message);
    return 2;
  }
  SystemClock clock;
  const std::string config_dir = DirOf(config_path);

  // The config as the file says, with the control store's route state laid
  // over it (etcd); the proxy runs it with fallback overrides.
  asio::io_context control(1);  // control loop (main thread)
  ControlPlane control_plane(clock);
  LiveConfig live_config(config_file, *cfg, control_plane, metrics, control.get_executor());
  auto configured = [&live_config] { return live_config.Configured(); };
  std::unique_ptr<EtcdControlStore> etcd_store;
  std::unique_ptr<EtcdFleet> fleet;
  const std::string replica_id = !replica_id_flag.empty()            ? replica_id_flag
                                 : !first.control.replica_id.empty() ? first.control.replica_id
                                                                     : HostName();
  if (first.control.store == Config::Control::Store::kEtcd) {
    auto client = EtcdClientOptionsFor(first.control);
    if (!client) {
      spdlog::error("control store: {}", client.error().message);
      return 2;
    }
    EtcdControlOptions o;
    o.client = std::move(*client);
    o.prefix = first.control.prefix;
    o.replica_id = replica_id;
    o.state_file = first.control.state_file;
    auto store = EtcdControlStore::Open(std::move(o), configured,
                                        [&live_config] { live_config.OnFleetChange(); });
    if (!store) {
      spdlog::error("control store: {}", store.error().message);
      return store.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
    }
    etcd_store = std::move(*store);
    spdlog::info("control store: etcd {} prefix {} as replica {} (revision {}{}{})",
                 fmt::join(first.control.endpoints, ","), first.control.prefix, replica_id,
                 etcd_store->State().revision, first.control.tls.enabled ? ", tls" : "",
                 first.control.auth_user.empty() ? "" : ", user " + first.control.auth_user);
  }
  if (etcd_store) {
    fleet = std::make_unique<EtcdFleet>(*etcd_store);
    live_config.AttachFleet(fleet.get(), replica_id);
  }

  // Control plane: live route state, durable replay log and its replayer.
  ReplayLogOptions replay_opts;
  replay_opts.dir = !replay_dir_flag.empty()   ? replay_dir_flag
                    : first.replay.dir.empty() ? config_dir + "/replay"
                                               : first.replay.dir;
  replay_opts.max_bytes = first.replay.max_bytes;
  replay_opts.segment_bytes = std::min<uint64_t>(replay_opts.segment_bytes, first.replay.max_bytes);
  replay_opts.initial_backoff = std::chrono::milliseconds(100);
  replay_opts.max_backoff = std::chrono::milliseconds(5000);
  auto replay_log = ReplayLog::Open(replay_opts);
  if (!replay_log) {
    spdlog::error("replay log {}: {}", replay_opts.dir, replay_log.error().message);
    return 1;
  }
  ReplayJournal journal(**replay_log);
  // Writes a killed proxy had sent without settling: to both sides, before serving.
  if (auto recovered = IntentLog::Recover(replay_opts.dir, **replay_log); !recovered) {
    spdlog::error("replay log {}: {}", replay_opts.dir, recovered.error().message);
    return 1;
  } else if (*recovered > 0) {
    spdlog::warn("replay log {}: {} writes in flight at the last stop replayed to both sides",
                 replay_opts.dir, *recovered);
  }
  IntentLog intents(replay_opts.dir);
  {
    const auto st = (*replay_log)->Stats();
    spdlog::info("replay log {}: {} writes pending from before ({} bytes)", replay_opts.dir,
                 st.backlog, st.bytes);
  }
  const std::string audit_path =
      first.admin_audit_log.empty() ? config_dir + "/audit.log" : first.admin_audit_log;
  auto audit = AuditLog::Open(audit_path);
  if (!audit) {
    spdlog::error("{}", audit.error().message);
    return 2;
  }

  ControlPlaneSink sink(
      control_plane, &journal, metrics, first.replay.durable_to_legacy,
      [&live_config](const std::string& route, const std::string& reason) {
        live_config.OnTrip(route, reason);
      },
      first.replay.durable_to_modern);
  Proxy proxy(metrics, ProxyHooks{&sink, &sink, &sink, &sink, &intents}, clock, access_log);
  if (auto s = live_config.Start(proxy); !s) {
    spdlog::error("config rejected: {}: {}", config_path, s.error().message);
    return 2;
  }

  auto resolve_up = [&proxy](const std::string& backend) -> std::optional<http::ClientTarget> {
    auto rt = proxy.runtime();
    auto it = rt->backends.find(backend);
    if (it == rt->backends.end() || !it->second.state->up.load()) return std::nullopt;
    return it->second.target;
  };
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
  ReplayConsumer replayer(**replay_log, replay_sender, 2);
  replayer.Start();
  YamlRouteStore yaml_store(config_path);
  RouteStore& route_store = etcd_store ? static_cast<RouteStore&>(*etcd_store) : yaml_store;
  asio::signal_set signals(control, SIGHUP, SIGTERM, SIGINT);

  unsigned threads = workers_flag ? workers_flag : first.workers;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto server_options = ServerOptionsFor(first, first.listen, threads);
  // Large pass-through bodies are streamed to the backend (Proxy::StreamBody).
  server_options.stream_body = [&proxy](const http::Request& head) {
    return proxy.StreamBody(head);
  };
  http::Server server(std::move(server_options),
                      [&proxy](http::Request& r) { return proxy.Handle(r); });
  AdminApi admin_api(metrics, proxy);
  AddServerMetrics(metrics, server);
  AddReplayMetrics(metrics, journal, configured);
  AddRouteMetrics(metrics, control_plane, configured);
  if (fleet) AddFleetMetrics(metrics, *fleet);
  metrics.AddCounterFamily(
      "ficus_proxy_write_intents_total",
      "Intents of mirrored writes (replay.intents): added before the write left, settled once "
      "both sides had it; write_failed: flushes not written (alert).",
      [&intents] {
        const auto s = intents.Stats();
        return std::vector<Sample>{
            {{{"event", "added"}}, static_cast<double>(s.added)},
            {{{"event", "settled"}}, static_cast<double>(s.settled)},
            {{{"event", "write_failed"}}, static_cast<double>(s.write_failures)}};
      });
  AdminDeps admin_deps;
  admin_deps.proxy = &proxy;
  admin_deps.control = &control_plane;
  admin_deps.journal = &journal;
  admin_deps.store = &route_store;
  admin_deps.audit = audit->get();
  admin_deps.config = &live_config;
  admin_deps.started_ms = started_ms;
  std::unique_ptr<FleetAdmin> fleet_admin;
  if (fleet) {
    fleet_admin = std::make_unique<FleetAdmin>(*fleet, replica_id, live_config);
    admin_deps.fleet = fleet_admin.get();
  }
  // The binlog follower (cdc.metrics_url): scraped on its own thread, shown
  // in /admin/status and on the dashboard; follows config reloads.
  FollowerMonitor follower;
  PeriodicScraper follower_scraper(
      [&configured]() -> std::optional<ScrapeTarget> {
        const auto c = configured();
        if (c->cdc.metrics_url.empty()) return std::nullopt;
        return ScrapeTarget{c->cdc.metrics_url,
                            c->cdc.address.host,
                            c->cdc.address.port,
                            c->cdc.path,
                            std::chrono::milliseconds(c->cdc.interval_ms),
                            std::chrono::milliseconds(c->cdc.timeout_ms)};
      },
      [&follower, &configured](const ScrapeTarget& t, const Result<std::string>& body) {
        follower.Record(t.url, configured()->cdc.lag_warn_s, body, UnixMs());
      },
      [&follower] { follower.Unconfigure(); });
  admin_deps.cdc_json = [&follower] { return FollowerStatusToJson(follower.Snapshot()); };
  AddFollowerMetrics(metrics, follower);
  // Autopilot (issue 15): plans that walk a route group through the
  // migration; changes go through admin_routes like an operator's.
  AutopilotDriver* autopilot_ptr = nullptr;
  admin_deps.on_manual_change = [&autopilot_ptr](const std::string& route,
                                                 const std::string& actor) {
    if (autopilot_ptr) autopilot_ptr->OnManualChange(route, actor);
  };
  AdminRoutes admin_routes(std::move(admin_deps));
  AutopilotDriverDeps autopilot_deps;
  autopilot_deps.admin = &admin_routes;
  autopilot_deps.control = &control_plane;
  autopilot_deps.journal = &journal;
  autopilot_deps.audit = audit->get();
  autopilot_deps.configured = configured;
  if (fleet_admin) {
    autopilot_deps.fleet_backlog = [&fleet_admin](const std::string& route,
                                                  const std::string& backend) {
      return fleet_admin->Backlog(route, backend);
    };
  }
  // Runs are kept beside the config (one proxy) or in etcd, where a lease
  // elects the one replica that drives them (a fleet).
  std::unique_ptr<AutopilotStore> autopilot_store;
  EtcdAutopilotStore* autopilot_lease = nullptr;
  if (etcd_store) {
    EtcdAutopilotOptions ao;
    ao.client = *EtcdClientOptionsFor(first.control);
    ao.prefix = first.control.prefix;
    ao.replica_id = replica_id;
    auto st = EtcdAutopilotStore::Open(std::move(ao));
    if (!st) {
      spdlog::error("autopilot: {}", st.error().message);
      return 2;
    }
    autopilot_lease = st->get();
    autopilot_store = std::move(*st);
    autopilot_deps.fleet = [&](const std::string& route) -> std::optional<FleetRouteNumbers> {
      return FleetNumbersOf(FleetTotal(etcd_store->Replicas(), route, replica_id));
    };
  } else {
    autopilot_store = std::make_unique<AutopilotFileStore>(config_dir + "/autopilot-state.json");
  }
  autopilot_deps.store = autopilot_store.get();
  AutopilotDriver autopilot(std::move(autopilot_deps));
  autopilot_ptr = &autopilot;
  AdminAutopilot admin_autopilot(autopilot, configured);
  admin_api.AddHandler([&admin_autopilot](http::Request& r) { return admin_autopilot.Handle(r); });
  admin_api.AddHandler([&admin_routes](http::Request& r) { return admin_routes.Handle(r); });
  AddAutopilotMetrics(metrics, autopilot);
  auto admin_opts = ServerOptionsFor(first, first.admin_listen, 1);
  // admin.tls: a TlsFront takes admin.listen and relays to the plain admin
  // server on a loopback port of its own.
  std::shared_ptr<http::TlsContext> admin_tls;
  if (first.admin_tls.enabled) {
    auto ctx = http::MakeServerTlsContext(
        {first.admin_tls.cert_file, first.admin_tls.key_file, first.admin_tls.client_ca_file});
    if (!ctx) {
      spdlog::error("admin.tls.{}", ctx.error().message);
      return 2;
    }
    admin_tls = std::move(*ctx);
    admin_opts.address = "127.0.0.1";
    admin_opts.port = 0;
  }
  http::Server admin(admin_opts, [&admin_api](http::Request& r) { return admin_api.Handle(r); });
  std::unique_ptr<http::TlsFront> admin_front;

  // Kept plans are read back before anything is served (an admin GET right
  // after the ready file sees them).
  if (auto st = autopilot.Start(); !st) {
    spdlog::error("autopilot: {}", st.error().message);
    return 2;
  }
  auto port = server.Start();
  if (!port) {
    spdlog::error("listen {}: {}", first.listen.ToString(), port.error().message);
    return 1;
  }
  auto admin_port = admin.Start();
  if (!admin_port) {
    spdlog::error("admin listen {}: {}", first.admin_listen.ToString(), admin_port.error().message);
    server.Drain(std::chrono::seconds(0));
    return 1;
  }
  if (admin_tls) {
    http::TlsFrontOptions fo;
    fo.address = first.admin_listen.host;
    fo.port = first.admin_listen.port;
    fo.tls = admin_tls;
    fo.backend_port = *admin_port;
    admin_front = std::make_unique<http::TlsFront>(std::move(fo));
    auto fp = admin_front->Start();
    if (!fp) {
      spdlog::error("admin listen {} (tls): {}", first.admin_listen.ToString(), fp.error().message);
      admin.Drain(std::chrono::seconds(0));
      server.Drain(std::chrono::seconds(0));
      return 1;
    }
    spdlog::info("admin: https on {}:{} (relayed to 127.0.0.1:{}){}", first.admin_listen.host, *fp,
                 *admin_port,
                 first.admin_tls.client_ca_file.empty() ? "" : ", client certificates required");
    admin_port = *fp;
  }
  spdlog::info("serving on {}:{} with {} event loops; admin on {}:{}; config generation 1",
               first.listen.host, *port, threads, first.admin_listen.host, *admin_port);
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << "{\"listen\":" << *port << ",\"admin\":" << *admin_port << "}\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }

  HealthChecker health(control.get_executor(), proxy);
  health.Start();
  follower_scraper.Start();
  if (autopilot_lease) autopilot_lease->Start();

  if (etcd_store) {
    etcd_store->Start([&]() {
      ReplicaReport rep;
      rep.admin = first.admin_listen.host + ":" + std::to_string(*admin_port);
      for (const auto& r : configured()->routes) {
        ReplicaRouteStats x;
        if (auto live = control_plane.Live(r.name)) {
          x.legacy_rps = live->legacy.rps.value_or(0);
          x.modern_rps = live->modern.rps.value_or(0);
          x.legacy_requests = live->legacy.requests;
          x.legacy_errors = live->legacy.errors;
          x.modern_requests = live->modern.requests;
          x.modern_errors = live->modern.errors;
          x.compared = live->mismatch.compared;
          x.mismatched = live->mismatch.mismatched;
          x.served = live->totals.served;
          x.legacy_answers = live->totals.legacy_answers;
          x.legacy_answer_errors = live->totals.legacy_errors;
          x.modern_answers = live->totals.modern_answers;
          x.modern_answer_errors = live->totals.modern_errors;
          x.skipped = live->compare_skipped;
          x.legacy_latency = std::move(live->legacy.latency);
          x.modern_latency = std::move(live->modern.latency);
        }
        x.backlog_to_legacy = journal.Queued(r.name, r.legacy_backend);
        x.backlog_to_modern = journal.Queued(r.name, r.modern_backend);
        rep.routes[r.name] = x;
      }
      return rep;
    });
  }

  bool stopping = false;
  std::thread drainer;
  std::function<void()> arm_signals = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        (void)live_config.Reload("SIGHUP");
        arm_signals();
        return;
      }
      if (stopping) return;
      stopping = true;
      spdlog::info("signal {}: draining (at most {} ms)", sig,
                   proxy.runtime()->config->drain_timeout_ms);
      proxy.BeginDrain();
      health.Stop();
      const auto deadline = std::chrono::milliseconds(proxy.runtime()->config->drain_timeout_ms);
      drainer = std::thread([&, deadline] {
        const bool clean = server.Drain(deadline);
        admin.Drain(std::chrono::milliseconds(500));
        if (admin_front) admin_front->Stop();
        access_log.Flush();
        spdlog::info("drained ({}); mirrors still in flight: {}", clean ? "clean" : "forced",
                     proxy.MirrorsInFlight());
        asio::post(control, [&control] { control.stop(); });
      });
    });
  };
  arm_signals();

  asio::co_spawn(
      control,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(control);
        int ticks = 0;
        while (!stopping) {
          t.expires_after(std::chrono::milliseconds(500));
          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
          if (stopping) break;
          live_config.PollSource();
          if (++ticks % 2 == 0) access_log.Flush();
        }
      },
      asio::detached);

  control.run();
  if (drainer.joinable()) drainer.join();
  intents.FlushAll();  // the loops stopped: their last settles
  follower_scraper.Stop();
  autopilot.Stop();
  if (autopilot_lease) autopilot_lease->Stop();  // hands the plans over at once
  if (etcd_store) etcd_store->Stop();            // revokes the lease: leaves the fleet at once
  replayer.Stop();
  rechecker.Stop();
  spdlog::info("replay log: {} writes pending at exit", journal.Stats().backlog);
  access_log.Flush();
  return 0;
}
