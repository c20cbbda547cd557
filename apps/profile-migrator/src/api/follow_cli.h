// Command line of `profile-migrator follow` and `profile-migrator status`
// (CLI11), parsed apart from backfill/verify (cli.h) so the follower's
// options stay in one place.
//
// Database settings come from flags or the environment variables that
// scripts/stack/legacy-stack.sh prints: follow connects with the
// replication account (FICUS_MYSQL_REPL_USER / _REPL_PASSWORD, REPLICATION
// SLAVE only); status with the normal one (FICUS_MYSQL_USER / _PASSWORD).
// Errors name the option and the rule.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "api/cli.h"
#include "ficus/result.h"
#include "service/url.h"

namespace ficus::migrator {

struct FollowArgs {
  DbArgs repl;  // replication account; repl.database = schema of the profile tables
  HttpUrl writer;
  std::string checkpoint = "profile-migrator.checkpoint.binlog";
  std::string start_gtid;  // used only when the checkpoint file does not exist
  bool has_start_gtid = false;
  std::uint32_t server_id = 4711;
  int workers = 16;               // single-update path: connections
  int bulk_workers = 4;           // bulk path: import requests in flight (--workers when given)
  std::string writer_token_file;  // the writer's --bulk-token-file; "" = single-update API
  bool bulk = true;               // --bulk auto|off
  bool stop_on_reject = false;    // --on-reject stop|record
  int bulk_records = 1'000;  // records per import request (x bulk_workers < writer's --queue-size)
  int max_batch_rows = 20'000;
  int max_batch_wait_ms = 5;
  std::string metrics_listen = "127.0.0.1:0";  // "" = no /metrics
  std::string metrics_port_file;               // written with the bound port
  std::string failures = "follow-failures.jsonl";
  int request_timeout_ms = 10'000;
  int retry_deadline_ms = 2'000;
};

struct StatusArgs {
  DbArgs db;
  std::string checkpoint = "profile-migrator.checkpoint.binlog";
};

using FollowCommand = std::variant<FollowArgs, StatusArgs, HelpRequested>;

// True when argv[1] is "follow" or "status".
bool IsFollowCommand(int argc, const char* const* argv);

// InvalidArgument: a usage error; the message is ready to print.
Result<FollowCommand> ParseFollowCommandLine(int argc, const char* const* argv);

}  // namespace ficus::migrator
