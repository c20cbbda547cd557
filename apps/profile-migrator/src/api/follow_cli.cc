#include "api/follow_cli.h"

#include <CLI/CLI.hpp>
#include <cstring>

#include "domain/cdc/gtid.h"

namespace ficus::migrator {

namespace {

void AddDb(CLI::App& app, DbArgs& db, const char* user_env, const char* password_env) {
  app.add_option("--mysql-host", db.host, "legacy MariaDB host")->envname("FICUS_MYSQL_HOST");
  app.add_option("--mysql-port", db.port, "legacy MariaDB TCP port")->envname("FICUS_MYSQL_PORT");
  app.add_option("--mysql-socket", db.socket, "Unix socket (instead of host:port)")
      ->envname("FICUS_MYSQL_SOCKET");
  app.add_option("--mysql-user", db.user, "MariaDB user")->envname(user_env);
  app.add_option("--mysql-password", db.password,
                 std::string("MariaDB password (prefer the ") + password_env + " variable)")
      ->envname(password_env);
  app.add_option("--mysql-db", db.database, "database holding the profile tables")
      ->envname("FICUS_MYSQL_DB");
  app.add_option("--mysql-connect-timeout", db.connect_timeout_s, "seconds");
}

Status Range(const char* name, long long v, long long lo, long long hi) {
  if (v < lo || v > hi) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(name) + ": must be " + std::to_string(lo) + " to " +
                         std::to_string(hi) + ", got " + std::to_string(v));
  }
  return {};
}

Status ValidateDb(const DbArgs& db) {
  if (auto s = Range("--mysql-port", db.port, 1, 65535); !s) return s;
  if (auto s = Range("--mysql-connect-timeout", db.connect_timeout_s, 1, 600); !s) return s;
  if (db.user.empty())
    return MakeError(ErrorCode::kInvalidArgument, "--mysql-user: must not be empty");
  if (db.database.empty())
    return MakeError(ErrorCode::kInvalidArgument, "--mysql-db: must not be empty");
  return {};
}

}  // namespace

bool IsFollowCommand(int argc, const char* const* argv) {
  return argc > 1 && (std::strcmp(argv[1], "follow") == 0 || std::strcmp(argv[1], "status") == 0);
}

Result<FollowCommand> ParseFollowCommandLine(int argc, const char* const* argv) {
  CLI::App app{"profile-migrator follow/status: change data capture from MariaDB's binlog",
               "profile-migrator"};
  app.require_subcommand(1);
  FollowArgs f;
  f.repl.user = "ficus_repl";
  StatusArgs st;
  std::string writer_url;
  auto* follow = app.add_subcommand(
      "follow", "apply every change of the profile tables in MariaDB's binlog to the writer");
  AddDb(*follow, f.repl, "FICUS_MYSQL_REPL_USER", "FICUS_MYSQL_REPL_PASSWORD");
  follow->add_option("--writer-url", writer_url, "profile writer base URL")
      ->envname("FICUS_WRITER_URL")
      ->required();
  follow
      ->add_option("--checkpoint", f.checkpoint,
                   "binlog position file (written by backfill, advanced by follow)")
      ->capture_default_str();
  follow->add_option("--start-gtid", f.start_gtid,
                     "GTID position to start from when the checkpoint does not exist yet "
                     "('' = the oldest binlog)");
  follow->add_option("--server-id", f.server_id, "replica server id (unique among replicas)")
      ->capture_default_str();
  follow
      ->add_option("--workers", f.workers,
                   "writer connections (1-256; default 16 single updates, 4 bulk requests)")
      ->capture_default_str();
  follow
      ->add_option("--writer-token-file", f.writer_token_file,
                   "the writer's --bulk-token-file: apply through its bulk import endpoint")
      ->envname("FICUS_WRITER_BULK_TOKEN_FILE");
  std::string bulk = "auto";
  follow->add_option("--bulk", bulk, "auto (bulk import when the writer has it) | off")
      ->capture_default_str();
  follow
      ->add_option("--bulk-records", f.bulk_records,
                   "records per import request (1-10000; keep --workers x this under the "
                   "writer's --queue-size, else it answers 503 and the batch waits 1 s)")
      ->capture_default_str();
  std::string on_reject = "record";
  follow
      ->add_option("--on-reject", on_reject,
                   "an update the writer refuses: record (failures file, metric; go on) | stop")
      ->capture_default_str();
  follow->add_option("--max-batch-rows", f.max_batch_rows, "rows per applied batch (1-1000000)")
      ->capture_default_str();
  follow
      ->add_option("--max-batch-wait-ms", f.max_batch_wait_ms,
                   "how long a batch waits to fill (0-10000)")
      ->capture_default_str();
  follow
      ->add_option("--metrics-listen", f.metrics_listen,
                   "HOST:PORT of /metrics (port 0 = any free port; '' = off)")
      ->capture_default_str();
  follow->add_option("--metrics-port-file", f.metrics_port_file, "write the bound port here");
  follow->add_option("--failures", f.failures, "JSON-lines file of updates the writer rejected");
  follow->add_option("--request-timeout-ms", f.request_timeout_ms, "per HTTP request");
  follow->add_option("--retry-deadline-ms", f.retry_deadline_ms,
                     "per attempt; past it the batch is retried with backoff");
  auto* status = app.add_subcommand("status", "show the migration phase and the follower's lag");
  AddDb(*status, st.db, "FICUS_MYSQL_USER", "FICUS_MYSQL_PASSWORD");
  status->add_option("--checkpoint", st.checkpoint, "binlog position file")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return FollowCommand{HelpRequested{app.help()}};
  } catch (const CLI::CallForAllHelp&) {
    return FollowCommand{HelpRequested{app.help("", CLI::AppFormatMode::All)}};
  } catch (const CLI::ParseError& e) {
    std::string where;
    for (auto* sub : app.get_subcommands()) where = sub->get_name() + ": ";
    return MakeError(ErrorCode::kInvalidArgument, where + e.what() + " (see --help)");
  }
  if (status->parsed()) {
    if (auto s = ValidateDb(st.db); !s) return tl::unexpected(s.error());
    return FollowCommand{std::move(st)};
  }
  if (auto s = ValidateDb(f.repl); !s) return tl::unexpected(s.error());
  auto url = ParseHttpUrl(writer_url);
  if (!url) return MakeError(ErrorCode::kInvalidArgument, "--writer-url: " + url.error().message);
  f.writer = *url;
  f.has_start_gtid = follow->count("--start-gtid") > 0;
  if (f.has_start_gtid) {
    if (auto p = cdc::GtidPosition::Parse(f.start_gtid); !p) {
      return MakeError(ErrorCode::kInvalidArgument, "--start-gtid: " + p.error().message);
    }
  }
  if (f.checkpoint.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--checkpoint: must not be empty");
  }
  if (f.server_id == 0) return MakeError(ErrorCode::kInvalidArgument, "--server-id: must not be 0");
  if (auto s = Range("--workers", f.workers, 1, 256); !s) return tl::unexpected(s.error());
  if (follow->count("--workers") > 0) f.bulk_workers = f.workers;
  if (auto s = Range("--bulk-records", f.bulk_records, 1, 10'000); !s) {
    return tl::unexpected(s.error());
  }
  if (bulk != "auto" && bulk != "off") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--bulk: must be auto or off, got '" + bulk + "'");
  }
  f.bulk = bulk == "auto";
  if (on_reject != "record" && on_reject != "stop") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--on-reject: must be record or stop, got '" + on_reject + "'");
  }
  f.stop_on_reject = on_reject == "stop";
  if (auto s = Range("--max-batch-rows", f.max_batch_rows, 1, 1'000'000); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = Range("--max-batch-wait-ms", f.max_batch_wait_ms, 0, 10'000); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = Range("--request-timeout-ms", f.request_timeout_ms, 1, 600'000); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = Range("--retry-deadline-ms", f.retry_deadline_ms, 0, 3'600'000); !s) {
    return tl::unexpected(s.error());
  }
  return FollowCommand{std::move(f)};
}

}  // namespace ficus::migrator
