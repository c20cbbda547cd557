// ficus-proxy: the strangler proxy. Wires config file, proxy, servers,
// health checks, reload and drain together; nothing else lives here.
//
//   ficus-proxy --config ficus.yaml [--ready-file PATH] [--workers N]
//
// Signals: SIGHUP reloads the config (as does any change of the file, polled
// every 500 ms); SIGTERM/SIGINT drain gracefully (stop accepting, finish
// in-flight requests and their mirrors, at most drain_timeout_ms) and exit 0.
// Exit codes: 0 clean, 1 runtime failure, 2 bad command line or config.
#include <spdlog/spdlog.h>

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
#include <thread>

#include "api/admin.h"
#include "api/health.h"
#include "api/proxy.h"
#include "domain/mirror_sink.h"
#include "ficus/http/server.h"
#include "model/config_file.h"
#include "service/access_log.h"
#include "service/clock.h"
#include "service/metrics.h"

namespace asio = boost::asio;
using namespace ficus;
using namespace ficus::proxy;

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ficus-proxy: strangler-fig reverse proxy"};
  std::string config_path;
  std::string ready_file;
  unsigned workers_flag = 0;
  app.add_option("--config,-c", config_path, "YAML config file")->required();
  app.add_option("--ready-file", ready_file,
                 "write {\"listen\":PORT,\"admin\":PORT} here once serving");
  app.add_option("--workers", workers_flag, "event loops (overrides the config; 0 = config)");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ proxy %v", spdlog::pattern_time_type::utc);
  std::signal(SIGPIPE, SIG_IGN);

  auto cfg = LoadConfigFile(config_path);
  if (!cfg) {
    spdlog::error("config rejected: {}", cfg.error().message);
    return 2;
  }
  const Config& first = **cfg;

  MetricsRegistry metrics;
  AccessLog access_log;
  if (auto s = access_log.Open(first.access_log); !s) {
    spdlog::error("{}", s.error().message);
    return 2;
  }
  SystemClock clock;
  NullMirrorSink sink;
  Proxy proxy(metrics, sink, clock, access_log);
  if (auto s = proxy.SetConfig(*cfg); !s) {
    spdlog::error("config rejected: {}: {}", config_path, s.error().message);
    return 2;
  }

  // Control loop (main thread): signals, reload, health checks, log flush.
  asio::io_context control(1);
  asio::signal_set signals(control, SIGHUP, SIGTERM, SIGINT);

  unsigned threads = workers_flag ? workers_flag : first.workers;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  http::Server server(ServerOptionsFor(first, first.listen, threads),
                      [&proxy](http::Request& r) { return proxy.Handle(r); });
  AdminApi admin_api(metrics, proxy);
  admin_api.AddCollector([&server, &metrics] {
    const auto c = server.Counters();
    metrics.GetGauge("ficus_proxy_connections_active", "Client connections open.")
        .Set(static_cast<int64_t>(c.connections_active));
    metrics.GetGauge("ficus_proxy_requests_in_flight", "Requests being handled.")
        .Set(static_cast<int64_t>(c.requests_in_flight));
    for (std::size_t i = 0; i < http::kRejectReasonCount; ++i) {
      metrics
          .GetGauge(
              "ficus_proxy_rejected_requests",
              "Requests rejected before routing (smuggling shapes, limits, timeouts); "
              "cumulative.",
              {{"reason", std::string(http::RejectReasonName(static_cast<http::RejectReason>(i)))}})
          .Set(static_cast<int64_t>(c.rejected[i]));
    }
  });
  auto admin_opts = ServerOptionsFor(first, first.admin_listen, 1);
  http::Server admin(admin_opts, [&admin_api](http::Request& r) { return admin_api.Handle(r); });

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
  spdlog::info("serving on {}:{} with {} event loops; admin on {}:{}; config generation 1",
               first.listen.host, *port, threads, first.admin_listen.host, *admin_port);
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << "{\"listen\":" << *port << ",\"admin\":" << *admin_port << "}\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }

  auto reload_counter = [&metrics](const char* result) -> Counter& {
    return metrics.GetCounter("ficus_proxy_config_reloads_total",
                              "Config reload attempts by result (ok, rejected).",
                              {{"result", result}});
  };
  reload_counter("ok");
  reload_counter("rejected");
  FileStamp stamp = StatFile(config_path).value_or(FileStamp{});
  auto reload = [&](const char* why) {
    stamp = StatFile(config_path).value_or(FileStamp{});
    auto next = LoadConfigFile(config_path);
    if (!next) {
      reload_counter("rejected").Inc();
      spdlog::error("reload ({}) rejected, keeping generation {}: {}", why,
                    proxy.runtime()->generation, next.error().message);
      return;
    }
    const auto& old_cfg = *proxy.runtime()->config;
    if ((*next)->listen.ToString() != old_cfg.listen.ToString() ||
        (*next)->admin_listen.ToString() != old_cfg.admin_listen.ToString()) {
      spdlog::warn("reload ({}): listen addresses change only on restart", why);
    }
    if (auto s = proxy.SetConfig(*next); !s) {
      reload_counter("rejected").Inc();
      spdlog::error("reload ({}) rejected, keeping generation {}: {}", why,
                    proxy.runtime()->generation, s.error().message);
      return;
    }
    reload_counter("ok").Inc();
    spdlog::info("reload ({}): config generation {} in force ({} routes)", why,
                 proxy.runtime()->generation, (*next)->routes.size());
  };

  HealthChecker health(control.get_executor(), proxy);
  health.Start();

  bool stopping = false;
  std::thread drainer;
  std::function<void()> arm_signals = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload("SIGHUP");
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
          if (auto s = StatFile(config_path); s && !(*s == stamp)) reload("file changed");
          if (++ticks % 2 == 0) access_log.Flush();
        }
      },
      asio::detached);

  control.run();
  if (drainer.joinable()) drainer.join();
  access_log.Flush();
  return 0;
}
