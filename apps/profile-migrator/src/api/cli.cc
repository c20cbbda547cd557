#include "api/cli.h"

#include <CLI/CLI.hpp>

#include "domain/partition.h"

namespace ficus::migrator {

namespace {

struct Raw {
  std::string writer_url;
  std::string bulk = "auto";
  std::string legacy_url;
  std::string legacy_tz = "UTC";
  std::string progress = "auto";
  std::string sample;
  std::uint64_t seed = 1;
};

void AddCommon(CLI::App& app, CommonArgs& c, Raw& raw, bool writer = true) {
  app.add_option("--mysql-host", c.db.host, "legacy MariaDB host")->envname("FICUS_MYSQL_HOST");
  app.add_option("--mysql-port", c.db.port, "legacy MariaDB TCP port")->envname("FICUS_MYSQL_PORT");
  app.add_option("--mysql-socket", c.db.socket, "Unix socket (instead of host:port)")
      ->envname("FICUS_MYSQL_SOCKET");
  app.add_option("--mysql-user", c.db.user, "MariaDB user")->envname("FICUS_MYSQL_USER");
  app.add_option("--mysql-password", c.db.password,
                 "MariaDB password (prefer the FICUS_MYSQL_PASSWORD environment variable)")
      ->envname("FICUS_MYSQL_PASSWORD");
  app.add_option("--mysql-db", c.db.database, "database holding the profile tables")
      ->envname("FICUS_MYSQL_DB");
  app.add_option("--mysql-connect-timeout", c.db.connect_timeout_s, "seconds");
  app.add_option("--chunk-size", c.chunk_size, "users per MySQL read (1-100000)")
      ->capture_default_str();
  app.add_option("--progress", raw.progress, "auto | bar | plain | none");
  app.add_option("--legacy-tz", raw.legacy_tz,
                 "zone of legacy DATETIME columns: UTC, +HH:MM or an IANA name");
  if (!writer) return;
  app.add_option("--writer-url", raw.writer_url,
                 "profile writer base URL, e.g. http://127.0.0.1:8082")
      ->envname("FICUS_WRITER_URL")
      ->required();
  app.add_option("--writer-token-file", c.writer_token_file,
                 "the writer's bulk token file (its --bulk-token-file): bulk import/read; "
                 "without it, or with an older writer, one request per update/user")
      ->envname("FICUS_WRITER_BULK_TOKEN_FILE");
  app.add_option("--bulk", raw.bulk, "auto (bulk endpoints when available) | off");
  app.add_option("--batch-users", c.batch_users, "users per bulk request (1-5000)")
      ->capture_default_str();
  app.add_option("--partitions", c.partitions, "key-range partitions read in parallel (1-256)")
      ->capture_default_str();
  app.add_option("--workers", c.workers, "concurrent writer connections (1-512)")
      ->capture_default_str();
  app.add_option("--rate", c.rate, "users per second, 0 = unlimited");
  app.add_option("--request-timeout-ms", c.request_timeout_ms, "per HTTP request");
  app.add_option("--retry-deadline-ms", c.retry_deadline_ms,
                 "give up on an unreachable writer after this long");
}

Status Validate(CommonArgs& c, const Raw& raw, bool writer = true) {
  auto bad = [](const std::string& m) { return MakeError(ErrorCode::kInvalidArgument, m); };
  auto range = [&](const char* name, long long v, long long lo, long long hi) -> Status {
    if (v < lo || v > hi) {
      return bad(std::string(name) + ": must be " + std::to_string(lo) + " to " +
                 std::to_string(hi) + ", got " + std::to_string(v));
    }
    return {};
  };
  if (auto s = range("--mysql-port", c.db.port, 1, 65535); !s) return s;
  if (auto s = range("--mysql-connect-timeout", c.db.connect_timeout_s, 1, 600); !s) return s;
  if (auto s = range("--partitions", c.partitions, 1, kMaxPartitions); !s) return s;
  if (auto s = range("--workers", c.workers, 1, 512); !s) return s;
  if (auto s = range("--chunk-size", c.chunk_size, 1, 100000); !s) return s;
  if (auto s = range("--request-timeout-ms", c.request_timeout_ms, 1, 600000); !s) return s;
  if (auto s = range("--retry-deadline-ms", c.retry_deadline_ms, 0, 3600000); !s) return s;
  if (!(c.rate >= 0)) return bad("--rate: must be 0 (unlimited) or a positive number");
  if (c.db.user.empty()) return bad("--mysql-user: must not be empty");
  if (c.db.database.empty()) return bad("--mysql-db: must not be empty");
  if (writer) {
    auto url = ParseHttpUrl(raw.writer_url);
    if (!url) return bad("--writer-url: " + url.error().message);
    c.writer = *url;
    if (auto s = range("--batch-users", c.batch_users, 1, 5000); !s) return s;
    if (raw.bulk != "auto" && raw.bulk != "off") {
      return bad("--bulk: must be auto or off, got '" + raw.bulk + "'");
    }
    c.bulk = raw.bulk == "auto";
  }
  auto zone = TimeZone::Load(raw.legacy_tz);
  if (!zone) return bad("--legacy-tz: " + zone.error().message);
  c.legacy_zone = std::make_shared<const TimeZone>(std::move(*zone));
  using P = CommonArgs::ProgressMode;
  if (raw.progress == "auto") {
    c.progress = P::kAuto;
  } else if (raw.progress == "bar") {
    c.progress = P::kBar;
  } else if (raw.progress == "plain") {
    c.progress = P::kPlain;
  } else if (raw.progress == "none") {
    c.progress = P::kNone;
  } else {
    return bad("--progress: must be auto, bar, plain or none, got '" + raw.progress + "'");
  }
  return {};
}

}  // namespace

Result<Command> ParseCommandLine(int argc, const char* const* argv) {
  CLI::App app{
      "profile-migrator: copy legacy MySQL profiles into the new store (backfill), prove "
      "parity (verify), and find legacy rows it cannot take (check)",
      "profile-migrator"};
  app.require_subcommand(1);
  BackfillArgs b;
  VerifyArgs v;
  Raw rb, rv;
  auto* backfill =
      app.add_subcommand("backfill", "copy every legacy profile to the profile writer (resumable)");
  AddCommon(*backfill, b.common, rb);
  backfill->add_option("--checkpoint", b.checkpoint, "checkpoint file (resumed when present)");
  backfill->add_flag("--restart", b.restart, "ignore an existing checkpoint and start over");
  backfill->add_option("--failures", b.failures, "JSON-lines file of users the writer rejected");
  backfill->add_option("--binlog-checkpoint", b.binlog_checkpoint,
                       "where a fresh run records its snapshot's binlog position for `follow` "
                       "(default: the checkpoint's path + .binlog)");
  auto* verify = app.add_subcommand("verify", "compare MySQL with the new store");
  AddCommon(*verify, v.common, rv);
  verify
      ->add_option("--legacy-url", rv.legacy_url,
                   "the legacy monolith's base URL: repairs towards legacy go through its API "
                   "(its merge, its cache invalidated)")
      ->envname("FICUS_LEGACY_URL");
  verify->add_flag(
      "--legacy-direct-sql", v.legacy_direct_sql,
      "repairs towards legacy written straight into MySQL (the monolith's cache may "
      "serve the old profile for up to 300 s): only for a schema its API cannot serve");
  CheckArgs ck;
  Raw rc;
  auto* check = app.add_subcommand(
      "check", "pre-flight of a backfill: report legacy rows the new store cannot take");
  AddCommon(*check, ck.common, rc, /*writer=*/false);
  check->add_option("--findings", ck.findings, "JSON-lines file of findings");
  verify->add_option("--sample", rv.sample, "N users or P% of users (default: all)");
  verify->add_option("--seed", rv.seed, "seed of the sample");
  verify->add_flag("--repair", v.repair, "rewrite mismatching users from the newer side");
  verify->add_option("--mismatches", v.mismatches, "JSON-lines file of mismatches");
  verify->add_option("--reread-attempts", v.reread_attempts,
                     "re-reads of a differing user before it is reported (1-20)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return Command{HelpRequested{app.help()}};
  } catch (const CLI::CallForAllHelp&) {
    return Command{HelpRequested{app.help("", CLI::AppFormatMode::All)}};
  } catch (const CLI::ParseError& e) {
    std::string where;
    for (auto* sub : app.get_subcommands()) where = sub->get_name() + ": ";
    return MakeError(ErrorCode::kInvalidArgument, where + e.what() + " (see --help)");
  }
  if (check->parsed()) {
    if (auto s = Validate(ck.common, rc, /*writer=*/false); !s) return tl::unexpected(s.error());
    if (ck.findings.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "--findings: must not be empty");
    }
    return Command{std::move(ck)};
  }
  if (backfill->parsed()) {
    b.common.workers_set = backfill->count("--workers") > 0;
    if (auto s = Validate(b.common, rb); !s) return tl::unexpected(s.error());
    if (b.checkpoint.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "--checkpoint: must not be empty");
    }
    return Command{std::move(b)};
  }
  v.common.workers_set = verify->count("--workers") > 0;
  if (auto s = Validate(v.common, rv); !s) return tl::unexpected(s.error());
  if (!rv.legacy_url.empty()) {
    auto url = ParseHttpUrl(rv.legacy_url);
    if (!url) return MakeError(ErrorCode::kInvalidArgument, "--legacy-url: " + url.error().message);
    v.legacy_url = *url;
  }
  if (!rv.sample.empty()) {
    auto spec = ParseSample(rv.sample);
    if (!spec) return tl::unexpected(spec.error());
    v.sample = *spec;
  }
  v.sample.seed = rv.seed;
  if (v.reread_attempts < 1 || v.reread_attempts > 20) {
    return MakeError(ErrorCode::kInvalidArgument, "--reread-attempts: must be 1 to 20, got " +
                                                      std::to_string(v.reread_attempts));
  }
  return Command{std::move(v)};
}

}  // namespace ficus::migrator
