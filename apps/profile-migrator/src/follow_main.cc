#include "follow_main.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/follow_cli.h"
#include "api/follow_report.h"
#include "api/report.h"
#include "domain/cdc/follow_state.h"
#include "domain/cdc/follower.h"
#include "ficus/clock.h"
#include "ficus/http/server.h"
#include "ficus/metrics.h"
#include "model/checkpoint_file.h"
#include "model/http_modern_store.h"
#include "model/mariadb_binlog_source.h"
#include "model/stamp_journal.h"
#include "model/writer_change_applier.h"

namespace ficus::migrator {

namespace {

std::atomic<bool> g_follow_stop{false};

extern "C" void OnFollowSignal(int) {
  g_follow_stop.store(true);
}

void Log(const std::string& line) {
  std::time_t t = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  std::fprintf(stderr, "%s profile-migrator follow: %s\n", when, line.c_str());
}

MySqlOptions ToMySql(const DbArgs& a) {
  MySqlOptions db;
  db.host = a.host;
  db.port = a.port;
  db.socket = a.socket;
  db.user = a.user;
  db.password = a.password;
  db.database = a.database;
  db.connect_timeout_s = a.connect_timeout_s;
  return db;
}

std::string Describe(const DbArgs& a) {
  return (a.socket.empty() ? a.host + ":" + std::to_string(a.port) : a.socket) + "/" + a.database;
}

boost::asio::awaitable<http::Response> ServeMetrics(const MetricsRegistry* registry,
                                                    http::Request& req) {
  if (req.Path() == "/metrics") {
    co_return http::Response::Text(200, registry->Render(),
                                   "text/plain; version=0.0.4; charset=utf-8");
  }
  if (req.Path() == "/healthz") co_return http::Response::Json(200, R"({"status":"ok"})");
  co_return http::Response::Error(404, "not found: /metrics and /healthz only");
}

int RunStatus(const StatusArgs& a) {
  SystemClock clock;
  std::optional<cdc::FollowState> state;
  auto text = LoadFile(a.checkpoint);
  if (text) {
    auto s = cdc::ParseFollowState(*text, a.checkpoint);
    if (!s) {
      std::fprintf(stderr, "profile-migrator status: error: %s\n", s.error().message.c_str());
      return kExitFatal;
    }
    state = *s;
  } else if (text.error().code != ErrorCode::kNotFound) {
    std::fprintf(stderr, "profile-migrator status: error: %s\n", text.error().message.c_str());
    return kExitFatal;
  }
  auto server = ServerGtidPosition(ToMySql(a.db));
  std::optional<std::string> pos;
  if (server) pos = *server;
  std::fputs(
      FormatStatus(state, a.checkpoint, pos, Describe(a.db), UnixMicros(clock.Wall())).c_str(),
      stdout);
  if (!server) {
    std::fprintf(stderr, "profile-migrator status: error: %s\n", server.error().message.c_str());
    return kExitFatal;
  }
  return state ? kExitOk : kExitFindings;
}

int RunFollow(const FollowArgs& a) {
  SystemClock clock;
  auto fatal = [](const std::string& m) {
    std::fprintf(stderr, "profile-migrator follow: error: %s\n", m.c_str());
    return kExitFatal;
  };
  // Where to start: the checkpoint (written by backfill or an earlier run).
  cdc::GtidPosition start;
  StampJournalPos stamps;
  auto text = LoadFile(a.checkpoint);
  if (text) {
    auto s = cdc::ParseFollowState(*text, a.checkpoint);
    if (!s) return fatal(s.error().message);
    start = *cdc::GtidPosition::Parse(s->gtid);
    stamps = {s->stamps_generation, s->stamps_bytes};
    if (a.has_start_gtid) Log("--start-gtid ignored: " + a.checkpoint + " exists");
  } else if (text.error().code == ErrorCode::kNotFound && a.has_start_gtid) {
    start = *cdc::GtidPosition::Parse(a.start_gtid);
    // Durable before the first event: a restart (even after kill -9) resumes here.
    cdc::FollowState initial{start.ToString(), "follow", Describe(a.repl),
                             UnixMicros(clock.Wall())};
    if (auto s = SaveFileAtomic(a.checkpoint, cdc::SerializeFollowState(initial)); !s) {
      return fatal(s.error().message);
    }
  } else if (text.error().code == ErrorCode::kNotFound) {
    return fatal("no binlog position: " + a.checkpoint +
                 " does not exist. Run `profile-migrator backfill` first (it records the "
                 "position of its snapshot there), or give --start-gtid");
  } else {
    return fatal(text.error().message);
  }
  const std::string source = Describe(a.repl);
  BinlogSourceOptions bo;
  bo.db = ToMySql(a.repl);
  bo.db.read_timeout_s = 30;  // > the 1 s heartbeat: a silent server is a dead connection
  bo.server_id = a.server_id;
  BinlogSourceFactory sources = [bo] { return MakeMariaDbBinlogSource(bo); };
  HttpStoreOptions http;
  http.url = a.writer;
  http.request_timeout_ms = a.request_timeout_ms;
  http.retry_deadline_ms = a.retry_deadline_ms;
  if (!a.writer_token_file.empty() && a.bulk) {
    auto token_text = LoadFile(a.writer_token_file);
    if (!token_text) return fatal("--writer-token-file: cannot read " + a.writer_token_file);
    auto secret = FirstTokenSecret(*token_text, "--writer-token-file " + a.writer_token_file);
    if (!secret) return fatal(secret.error().message);
    http.bulk_token = *secret;
    http.bulk_token_origin = "--writer-token-file " + a.writer_token_file;
  }
  Clock* clock_ptr = &clock;
  ModernStoreFactory stores = [http, clock_ptr]() -> Result<std::unique_ptr<ModernStore>> {
    return MakeHttpModernStore(http, *clock_ptr);
  };
  if (!http.bulk_token.empty()) {
    // A token the writer refuses stops the follower now, not at the first change.
    auto probe = MakeHttpModernStore(http, clock)->HasBulk();
    if (!probe && probe.error().code != ErrorCode::kUnavailable) {
      return fatal(probe.error().message);
    }
  }
  WriterApplierOptions ao;
  ao.workers = a.workers;
  ao.bulk_workers = a.bulk_workers;
  ao.bulk = a.bulk;
  ao.max_records = static_cast<std::size_t>(a.bulk_records);
  ao.log = Log;
  auto applier = MakeWriterChangeApplier(stores, ao);

  cdc::FollowerMetrics metrics;
  std::atomic<double> rows_per_s{0};
  MetricsRegistry registry;
  RegisterFollowerMetrics(registry, metrics, clock, rows_per_s);
  std::unique_ptr<http::Server> server;
  if (!a.metrics_listen.empty()) {
    auto colon = a.metrics_listen.rfind(':');
    http::ServerOptions so;
    so.address = a.metrics_listen.substr(0, colon);
    int port = colon == std::string::npos ? -1 : std::atoi(a.metrics_listen.c_str() + colon + 1);
    if (port < 0 || port > 65535) return fatal("--metrics-listen: expected HOST:PORT");
    so.port = static_cast<std::uint16_t>(port);
    server = std::make_unique<http::Server>(
        so, [r = &registry](http::Request& req) { return ServeMetrics(r, req); });
    auto bound = server->Start();
    if (!bound) return fatal("--metrics-listen " + a.metrics_listen + ": " + bound.error().message);
    Log(fmt::format("metrics on http://{}:{}/metrics", so.address, *bound));
    if (!a.metrics_port_file.empty()) {
      if (auto s = SaveFileAtomic(a.metrics_port_file, std::to_string(*bound) + "\n"); !s) {
        return fatal(s.error().message);
      }
    }
  }
  std::atomic<bool> sampler_stop{false};
  std::thread sampler([&] {
    std::uint64_t last = metrics.rows_applied_total.load();
    while (!sampler_stop.load()) {
      for (int i = 0; i < 10 && !sampler_stop.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      const std::uint64_t now = metrics.rows_applied_total.load();
      rows_per_s.store(static_cast<double>(now - last));
      last = now;
    }
  });

  std::mutex failures_mu;
  std::ofstream failures;
  cdc::FollowerOptions o;
  o.tables.database = a.repl.database;
  o.max_batch_rows = static_cast<std::size_t>(a.max_batch_rows);
  o.max_batch_wait_ms = a.max_batch_wait_ms;
  o.source = source;
  o.stop_on_reject = a.stop_on_reject;
  cdc::Follower follower(
      o, sources, *applier,
      [path = a.checkpoint](const cdc::FollowState& s) {
        return SaveFileAtomic(path, cdc::SerializeFollowState(s));
      },
      clock, g_follow_stop, metrics, Log,
      [&](const RejectedUpdate& r) {
        std::lock_guard<std::mutex> lock(failures_mu);
        if (!failures.is_open()) failures.open(a.failures, std::ios::app);
        boost::json::object attrs;
        for (const auto& [k, v] : r.update.attributes) {
          attrs[k] = v ? boost::json::value(*v) : boost::json::value(nullptr);
        }
        failures << boost::json::serialize(boost::json::object{{"user_id", r.update.user_id},
                                                               {"ts_us", r.update.ts_us},
                                                               {"attributes", attrs},
                                                               {"error", r.message}})
                 << '\n';
        failures.flush();
        Log("writer rejected an update of user " + r.update.user_id + ": " + r.message +
            " (recorded in " + a.failures + ")");
      });
  Log("following " + source + " from GTID position '" + start.ToString() + "' into " +
      a.writer.ToString() + " (checkpoint " + a.checkpoint + ")");
  StampJournal journal(a.checkpoint);
  auto result = follower.Run(start, &journal, stamps);
  sampler_stop.store(true);
  sampler.join();
  if (server) server->Drain(std::chrono::seconds(1));
  if (!result) return fatal(result.error().message);
  Log("stopped at GTID position " + metrics.LastGtid());
  return kExitOk;
}

}  // namespace

int FollowMain(int argc, char** argv) {
  auto cmd = ParseFollowCommandLine(argc, argv);
  if (!cmd) {
    std::fprintf(stderr, "profile-migrator: %s\n", cmd.error().message.c_str());
    return kExitUsage;
  }
  if (auto* help = std::get_if<HelpRequested>(&*cmd)) {
    std::fputs(help->text.c_str(), stdout);
    return kExitOk;
  }
  struct sigaction sa {};
  sa.sa_handler = OnFollowSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  InitMariaDbLibrary();
  if (auto* s = std::get_if<StatusArgs>(&*cmd)) return RunStatus(*s);
  return RunFollow(std::get<FollowArgs>(*cmd));
}

void RecordBackfillPosition(const CommonArgs& c, const std::string& path) {
  MySqlOptions db = ToMySql(c.db);
  auto pos = SnapshotGtidPosition(db);
  if (!pos) {
    std::fprintf(stderr,
                 "profile-migrator backfill: warning: no binlog position recorded for `follow` "
                 "(%s)\n",
                 pos.error().message.c_str());
    return;
  }
  SystemClock clock;
  cdc::FollowState s{*pos, "backfill", Describe(c.db), UnixMicros(clock.Wall())};
  if (auto saved = SaveFileAtomic(path, cdc::SerializeFollowState(s)); !saved) {
    std::fprintf(stderr, "profile-migrator backfill: warning: no binlog position recorded: %s\n",
                 saved.error().message.c_str());
    return;
  }
  std::fprintf(stderr, "profile-migrator backfill: binlog position of the snapshot: '%s' (in %s)\n",
               pos->c_str(), path.c_str());
}

void MarkBackfilled(const std::string& path) {
  auto text = LoadFile(path);
  if (!text) return;
  auto s = cdc::ParseFollowState(*text, path);
  if (!s || s->phase != "backfill") return;
  s->phase = "backfilled";
  SystemClock clock;
  s->saved_at_us = UnixMicros(clock.Wall());
  (void)SaveFileAtomic(path, cdc::SerializeFollowState(*s));
}

}  // namespace ficus::migrator
