// Command line of profile-migrator (CLI11): `backfill`, `verify`, `check`.
//
// ParseCommandLine validates every argument before anything connects, and
// its errors name the option and the rule ("--partitions: must be 1 to 256,
// got 0"). Database settings also come from the environment variables that
// scripts/stack/legacy-stack.sh prints (FICUS_MYSQL_HOST, _PORT, _SOCKET,
// _USER, _PASSWORD, _DB); flags win over the environment.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "domain/sampler.h"
#include "ficus/result.h"
#include "service/datetime.h"
#include "service/url.h"

namespace ficus::migrator {

// Default concurrency, chosen by measurement (bench/migrator/run.sh sweep,
// bench/RESULTS.md): a backfill gains from many updates in flight (the
// writer's group commit syncs more per fsync), a verify's reads do not.
inline constexpr int kBackfillWorkers = 64;
inline constexpr int kVerifyWorkers = 16;
// With the writer's bulk endpoints each request carries batch_users users:
// a few in flight keep the writer's loop and group commit busy.
inline constexpr int kBulkWorkers = 4;

struct DbArgs {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;
  std::string user = "ficus";
  std::string password;
  std::string database = "ficus";
  int connect_timeout_s = 5;
};

struct CommonArgs {
  DbArgs db;
  HttpUrl writer;
  int partitions = 4;
  int workers = kBackfillWorkers;  // VerifyArgs sets kVerifyWorkers
  bool workers_set = false;        // --workers given (else chosen by path: kBulkWorkers)
  std::string writer_token_file;   // the writer's --bulk-token-file; empty: per-update API
  bool bulk = true;                // --bulk auto|off
  int batch_users = 500;           // users per bulk request
  int chunk_size = 500;
  double rate = 0;  // users per second, 0 = unlimited
  std::shared_ptr<const TimeZone> legacy_zone;
  int request_timeout_ms = 10'000;
  int retry_deadline_ms = 30'000;
  enum class ProgressMode { kAuto, kBar, kPlain, kNone } progress = ProgressMode::kAuto;
};

struct BackfillArgs {
  CommonArgs common;
  std::string checkpoint = "profile-migrator.checkpoint";
  bool restart = false;
  std::string failures = "backfill-failures.jsonl";
  // Binlog position of the snapshot, for `follow` (follow_cli.h); "" =
  // the checkpoint's path + ".binlog".
  std::string binlog_checkpoint;
};

struct VerifyArgs {
  VerifyArgs() { common.workers = kVerifyWorkers; }
  CommonArgs common;
  SampleSpec sample;
  bool repair = false;
  std::string mismatches = "verify-mismatches.jsonl";
  int reread_attempts = 3;
  HttpUrl legacy_url;  // the monolith's base URL (repairs towards legacy); host empty: none
  bool legacy_direct_sql = false;
};

struct CheckArgs {
  CommonArgs common;  // MySQL settings, chunk size, progress (no writer)
  std::string findings = "check-findings.jsonl";
};

struct HelpRequested {
  std::string text;
};

using Command = std::variant<BackfillArgs, VerifyArgs, CheckArgs, HelpRequested>;

// InvalidArgument: a usage error; the message is ready to print.
Result<Command> ParseCommandLine(int argc, const char* const* argv);

}  // namespace ficus::migrator
