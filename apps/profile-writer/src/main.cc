// profile-writer: wires the concrete types together and runs until SIGTERM
// or SIGINT. Shutdown order: stop accepting and finish in-flight requests
// (Server::Drain - the store keeps committing meanwhile), then close the
// store (drains its queue, flushes), then exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "api/router.h"
#include "config.h"
#include "domain/profile_service.h"
#include "domain/validation.h"
#include "ficus/clock.h"
#include "ficus/http/server.h"
#include "ficus/metrics.h"
#include "model/scylla_store_url.h"
#include "scylla_cli.h"
#include "service/logging.h"
#include "store_factory.h"
#ifdef FICUS_WRITER_TEST_FAULTS
#include "api/test_faults.h"  // test binary only (profile-writer-test-faults)
#endif

namespace api = ficus::writer::api;
namespace http = ficus::http;
using ficus::MetricsRegistry;
using ficus::SystemClock;
using ficus::writer::Config;
using ficus::writer::GetLogger;
using ficus::writer::IsScyllaStoreUrl;
using ficus::writer::LoadConfig;
using ficus::writer::OpenStore;
using ficus::writer::ProfileService;
using ficus::writer::ProfileStore;
using ficus::writer::RunSchemaCommand;
using ficus::writer::SetLogLevel;

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "schema") {
    return RunSchemaCommand(argc - 1, argv + 1);
  }
  auto loaded = LoadConfig(argc, argv);
  if (!loaded) {
    std::cerr << "profile-writer: " << loaded.error().message << "\n";
    return 2;
  }
  if (!*loaded) return 0;  // --help
  const Config& cfg = **loaded;
  SetLogLevel(cfg.log_level);
  auto log = GetLogger("writer.main");

  // Block the shutdown signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SystemClock clock;
  MetricsRegistry metrics;
  auto opened = OpenStore(cfg, metrics, clock);
  if (!opened) {
    log->critical("{}", opened.error().message);
    return 1;
  }
  std::unique_ptr<ProfileStore> store = std::move(*opened);

  ProfileService service(*store, clock);
  api::RouterOptions router_options;
  router_options.bulk_token_file = cfg.bulk_token_file;
  router_options.bulk_max_body_bytes = cfg.bulk_max_body_bytes;
  router_options.bulk_endpoints = !cfg.no_bulk_endpoints;
  api::Router router(service, metrics, router_options);

  http::ServerOptions server_options;
  server_options.address = cfg.listen_host;
  server_options.port = cfg.listen_port;
  server_options.threads = cfg.threads;
  server_options.limits.max_body_bytes = router.BodyLimit();
  server_options.max_connections = cfg.max_connections;
  server_options.head_check = [&router](const http::Request& r) { return router.HeadCheck(r); };
  server_options.stream_body = [&router](const http::Request& r) { return router.StreamBody(r); };
  http::Handler handler = [&router](http::Request& r) { return router.Handle(r); };
#ifdef FICUS_WRITER_TEST_FAULTS
  api::TestFaults faults;
  server_options.head_check = faults.WrapHead(std::move(server_options.head_check));
  handler = faults.Wrap(std::move(handler));
#endif
  http::Server server(server_options, std::move(handler));
  metrics.AddCallbackGauge(
      "ficus_writer_http_connections_active", "Open client connections.",
      [&server] { return static_cast<double>(server.Counters().connections_active); });
  metrics.AddCallbackCounter(
      "ficus_writer_http_rejected_requests_total",
      "Requests rejected by the HTTP layer before routing (400, 408, 413, 414, 431), since start.",
      [&server] {
        double n = 0;
        for (auto v : server.Counters().rejected) n += static_cast<double>(v);
        return n;
      });
  auto port = server.Start();
  if (!port) {
    log->critical("cannot listen on {}:{}: {}", cfg.listen_host, cfg.listen_port,
                  port.error().message);
    return 1;
  }
  // Machine-readable line for scripts and tests (port 0 picks a free port).
  std::printf("profile-writer listening on http://%s:%u\n", cfg.listen_host.c_str(),
              static_cast<unsigned>(*port));
  std::fflush(stdout);
  log->info("listening on {}:{} with {} loop(s), data in {}, sync={}", cfg.listen_host, *port,
            cfg.threads, IsScyllaStoreUrl(cfg.store) ? cfg.store : cfg.data_dir,
            !cfg.unsafe_no_sync);

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("signal {}: draining", sig);
  router.SetDraining();
  bool clean = server.Drain(std::chrono::milliseconds(cfg.drain_timeout_ms));
  server.Wait();
  auto closed = store->Close();
  if (!closed) {
    log->error("store close failed: {}", closed.error().message);
    return 1;
  }
  log->info("stopped ({})", clean ? "all requests finished" : "some connections force-closed");
  return 0;
}
