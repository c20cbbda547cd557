// profile-migrator: wires the concrete stores (MariaDB, HTTP writer), the
// checkpoint file, clock, rate limiter and progress reporter into the
// backfill and verify runners. See README.md.
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "api/cli.h"
#include "api/follow_cli.h"
#include "api/report.h"
#include "domain/backfill.h"
#include "domain/check.h"
#include "domain/verify.h"
#include "ficus/clock.h"
#include "follow_main.h"
#include "model/checkpoint_file.h"
#include "model/http_modern_store.h"
#include "model/mariadb_legacy_store.h"
#include "service/progress.h"
#include "service/rate_limiter.h"

namespace fm = ficus::migrator;

namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) {
  g_stop.store(true);
}

void InstallSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

struct Wiring {
  ficus::SystemClock clock;
  fm::LegacyStoreFactory legacy;
  fm::ModernStoreFactory modern;
};

// The writer's bulk token (first secret of --writer-token-file), or "".
ficus::Result<std::string> ReadWriterToken(const fm::CommonArgs& c) {
  if (c.writer_token_file.empty() || !c.bulk) return std::string();
  std::ifstream in(c.writer_token_file, std::ios::binary);
  if (!in) {
    return ficus::MakeError(ficus::ErrorCode::kInvalidArgument,
                            "--writer-token-file: cannot read " + c.writer_token_file);
  }
  std::stringstream text;
  text << in.rdbuf();
  return fm::FirstTokenSecret(text.str(), "--writer-token-file " + c.writer_token_file);
}

ficus::Status Wire(Wiring& w, const fm::CommonArgs& c) {
  fm::MySqlOptions db;
  db.host = c.db.host;
  db.port = c.db.port;
  db.socket = c.db.socket;
  db.user = c.db.user;
  db.password = c.db.password;
  db.database = c.db.database;
  db.connect_timeout_s = c.db.connect_timeout_s;
  db.legacy_zone = c.legacy_zone;
  w.legacy = [db] { return fm::ConnectMariaDb(db); };
  fm::HttpStoreOptions http;
  http.url = c.writer;
  http.request_timeout_ms = c.request_timeout_ms;
  http.retry_deadline_ms = c.retry_deadline_ms;
  auto token = ReadWriterToken(c);
  if (!token) return tl::unexpected(token.error());
  http.bulk_token = *token;
  ficus::Clock* clock = &w.clock;
  w.modern = [http, clock]() -> ficus::Result<std::unique_ptr<fm::ModernStore>> {
    return fm::MakeHttpModernStore(http, *clock);
  };
  return {};
}

int Usage(const ficus::Error& e) {
  std::fprintf(stderr, "profile-migrator: %s\n", e.message.c_str());
  return fm::kExitUsage;
}

std::unique_ptr<fm::Progress> MakeProgress(ficus::Clock& clock, const fm::CommonArgs& c,
                                           const char* label, const char* unit) {
  using P = fm::CommonArgs::ProgressMode;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::FILE* out = c.progress == P::kNone ? nullptr : stderr;
  const bool bar = c.progress == P::kBar || (c.progress == P::kAuto && tty);
  return std::make_unique<fm::Progress>(clock, out, bar, label, unit, bar ? 200'000 : 5'000'000);
}

int Fatal(const std::string& what, const ficus::Error& e) {
  std::fprintf(stderr, "profile-migrator %s: error: %s\n", what.c_str(), e.message.c_str());
  return fm::kExitFatal;
}

// Opens a JSON-lines output file lazily (only when there is something to write).
class LineSink {
 public:
  explicit LineSink(std::string path) : path_(std::move(path)) {}
  void Write(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!out_.is_open()) out_.open(path_, std::ios::trunc);
    out_ << line << '\n';
    out_.flush();
  }

 private:
  std::string path_;
  std::mutex mu_;
  std::ofstream out_;
};

int RunBackfill(const fm::BackfillArgs& a) {
  Wiring w;
  if (auto s = Wire(w, a.common); !s) return Usage(s.error());
  fm::RateLimiter limiter(w.clock, a.common.rate, std::max(1.0, a.common.rate / 10));
  auto progress = MakeProgress(w.clock, a.common, "backfill", "profiles");
  LineSink failures(a.failures);
  fm::BackfillOptions o;
  o.partitions = a.common.partitions;
  o.workers = a.common.workers;
  o.chunk_size = a.common.chunk_size;
  o.restart = a.restart;
  // A fresh run records the binlog position of its snapshot for `follow`.
  const std::string binlog_cp =
      a.binlog_checkpoint.empty() ? a.checkpoint + ".binlog" : a.binlog_checkpoint;
  if (a.restart || !fm::LoadFile(a.checkpoint)) fm::RecordBackfillPosition(a.common, binlog_cp);
  o.use_bulk = a.common.bulk;
  o.batch_users = a.common.batch_users;
  o.bulk_workers = a.common.workers_set ? a.common.workers : fm::kBulkWorkers;
  fm::CheckpointIo io{
      a.checkpoint, [p = a.checkpoint] { return fm::LoadFile(p); },
      [p = a.checkpoint](const std::string& t) { return fm::SaveFileAtomic(p, t); }};
  fm::Backfill backfill(o, w.legacy, w.modern, io, w.clock, limiter, *progress, g_stop,
                        [&](const std::string& user, const std::string& err) {
                          failures.Write(boost::json::serialize(
                              boost::json::object{{"user_id", user}, {"error", err}}));
                        });
  auto r = backfill.Run();
  if (!r) {
    if (backfill.summary().processed > 0) {
      std::fputs(fm::FormatBackfillSummary(backfill.summary(), a.failures).c_str(), stdout);
    }
    return Fatal("backfill", r.error());
  }
  std::fputs(fm::FormatBackfillSummary(*r, a.failures).c_str(), stdout);
  const int code = fm::BackfillExitCode(*r);
  if (code == fm::kExitOk) fm::MarkBackfilled(binlog_cp);
  return code;
}

int RunVerify(const fm::VerifyArgs& a) {
  Wiring w;
  if (auto s = Wire(w, a.common); !s) return Usage(s.error());
  fm::RateLimiter limiter(w.clock, a.common.rate, std::max(1.0, a.common.rate / 10));
  auto progress = MakeProgress(w.clock, a.common, "verify", "users");
  LineSink mismatches(a.mismatches);
  {
    std::ofstream truncate(a.mismatches, std::ios::trunc);  // no stale lines from an earlier run
    if (!truncate) {
      return Fatal("verify", ficus::Error(ficus::ErrorCode::kInvalidArgument,
                                          "--mismatches: cannot write " + a.mismatches));
    }
  }
  fm::VerifyOptions o;
  o.partitions = a.common.partitions;
  o.workers = a.common.workers;
  o.chunk_size = a.common.chunk_size;
  o.sample = a.sample;
  o.repair = a.repair;
  o.reread_attempts = a.reread_attempts;
  o.use_bulk = a.common.bulk;
  o.batch_users = a.common.batch_users;
  o.bulk_workers = a.common.workers_set ? a.common.workers : fm::kBulkWorkers;
  o.legacy_direct_sql = a.legacy_direct_sql;
  fm::ModernStoreFactory legacy_api;
  if (!a.legacy_url.host.empty()) {
    // The monolith's v1 API is byte-compatible with the writer's v2.
    fm::HttpStoreOptions http;
    http.url = a.legacy_url;
    http.api_prefix = "/api/v1/profile";
    http.request_timeout_ms = a.common.request_timeout_ms;
    http.retry_deadline_ms = a.common.retry_deadline_ms;
    ficus::Clock* clock = &w.clock;
    legacy_api = [http, clock]() -> ficus::Result<std::unique_ptr<fm::ModernStore>> {
      return fm::MakeHttpModernStore(http, *clock);
    };
  }
  fm::Verify verify(
      o, w.legacy, w.modern, w.clock, limiter, *progress, g_stop,
      [&](const std::string& line) { mismatches.Write(line); }, legacy_api);
  auto r = verify.Run();
  if (!r) return Fatal("verify", r.error());
  std::fputs(fm::FormatVerifySummary(*r, a.repair, a.mismatches).c_str(), stdout);
  return fm::VerifyExitCode(*r, a.repair);
}

int RunCheck(const fm::CheckArgs& a) {
  Wiring w;
  if (auto s = Wire(w, a.common); !s) return Usage(s.error());
  auto progress = MakeProgress(w.clock, a.common, "check", "profiles");
  {
    std::ofstream truncate(a.findings, std::ios::trunc);
    if (!truncate) {
      return Usage(ficus::Error(ficus::ErrorCode::kInvalidArgument,
                                "--findings: cannot write " + a.findings));
    }
  }
  LineSink findings(a.findings);
  fm::CheckOptions o;
  o.chunk_size = a.common.chunk_size;
  o.now_us = ficus::UnixMicros(w.clock.Wall());
  fm::Check check(o, w.legacy, w.clock, *progress, g_stop,
                  [&](const std::string& line) { findings.Write(line); });
  auto r = check.Run();
  if (!r) return Fatal("check", r.error());
  std::fputs(fm::FormatCheckSummary(*r, a.findings).c_str(), stdout);
  return fm::CheckExitCode(*r);
}

}  // namespace

int main(int argc, char** argv) {
  if (fm::IsFollowCommand(argc, argv)) return fm::FollowMain(argc, argv);
  auto cmd = fm::ParseCommandLine(argc, argv);
  if (!cmd) {
    std::fprintf(stderr, "profile-migrator: %s\n", cmd.error().message.c_str());
    return fm::kExitUsage;
  }
  if (auto* help = std::get_if<fm::HelpRequested>(&*cmd)) {
    std::fputs(help->text.c_str(), stdout);
    return fm::kExitOk;
  }
  InstallSignals();
  fm::InitMariaDbLibrary();
  if (auto* b = std::get_if<fm::BackfillArgs>(&*cmd)) return RunBackfill(*b);
  if (auto* c = std::get_if<fm::CheckArgs>(&*cmd)) return RunCheck(*c);
  return RunVerify(std::get<fm::VerifyArgs>(*cmd));
}
