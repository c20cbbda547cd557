#include "scylla_cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "model/scylla_profile_store.h"
#include "model/scylla_schema.h"
#include "model/scylla_store_url.h"
#include "service/logging.h"

namespace ficus::writer {
namespace {

std::string Password() {
  const char* p = std::getenv(kScyllaPasswordEnv);
  return p ? p : "";
}

}  // namespace

int RunSchemaCommand(int argc, char** argv) {
  CLI::App app{"profile-writer schema: manage the ScyllaDB schema (packages/schema/cql)"};
  app.require_subcommand(1);
  std::string store, replication, schema_dir;
  std::int64_t history_ttl = 0;
  unsigned agreement_ms = 30000;
  bool dry_run = false;
  auto* apply = app.add_subcommand("apply", "create the keyspace and tables (idempotent)");
  apply->add_option("--store", store, "scylla://host1:9042,host2/keyspace?...")
      ->envname("FICUS_WRITER_STORE")
      ->required();
  apply
      ->add_option("--replication", replication,
                   "SimpleStrategy:<rf> (one node) or NetworkTopologyStrategy:<dc>=<rf>[,...]")
      ->required();
  apply->add_option("--history-ttl", history_ttl,
                    "seconds rows of the history table live (0: forever)");
  apply->add_option("--schema-dir", schema_dir,
                    "read *.cql from this directory instead of the built-in copy");
  apply->add_option("--agreement-timeout-ms", agreement_ms,
                    "wait this long for schema agreement (default 30000)");
  apply->add_flag("--dry-run", dry_run, "print the statements instead of running them");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "profile-writer schema: " << e.what() << "\n";
    return 2;
  }
  auto fail = [](const Error& e, int code) {
    std::cerr << "profile-writer schema apply: " << e.message << "\n";
    return code;
  };
  if (!IsScyllaStoreUrl(store)) {
    return fail(Error(ErrorCode::kInvalidArgument,
                      "--store: schema apply needs a scylla:// URL, got '" + store + "'"),
                2);
  }
  auto url = ParseScyllaStoreUrl(store);
  if (!url) return fail(Error(url.error().code, "--store: " + url.error().message), 2);
  auto repl = ParseReplication(replication);
  if (!repl) return fail(repl.error(), 2);
  auto files = schema_dir.empty() ? Result<std::vector<CqlSchemaFile>>(EmbeddedCqlSchema())
                                  : LoadCqlSchemaDir(schema_dir);
  if (!files) return fail(files.error(), 2);
  auto statements = RenderCqlSchema(*files, {url->keyspace, *repl, history_ttl});
  if (!statements) return fail(statements.error(), 2);
  if (dry_run) {
    for (const auto& s : *statements) std::printf("%s;\n\n", s.c_str());
    return 0;
  }
  ApplySchemaOptions o;
  o.url = *url;
  o.password = Password();
  o.agreement_timeout = std::chrono::milliseconds(agreement_ms);
  o.progress = [](std::string_view line) {
    std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  auto st = ApplyCqlSchema(o, *statements);
  if (!st) return fail(st.error(), 1);
  std::printf("schema applied to keyspace %s\n", url->keyspace.c_str());
  return 0;
}

Result<std::unique_ptr<ProfileStore>> OpenScyllaStore(const std::string& url_text,
                                                      MetricsRegistry& metrics) {
  auto url = ParseScyllaStoreUrl(url_text);
  if (!url) return tl::unexpected(url.error());
  ScyllaStoreOptions o;
  o.url = *url;
  o.password = Password();
  FICUS_REGISTER_METRICS(ALL_SCYLLA_STORE_METRICS, o.metrics, metrics, "ficus_writer_");
  auto store = ScyllaProfileStore::Open(std::move(o));
  if (!store) return tl::unexpected(store.error());
  auto* raw = store->get();
  metrics.AddCallbackGauge("ficus_writer_scylla_connections",
                           "Open CQL connections (all hosts, shards).",
                           [raw] { return static_cast<double>(raw->OpenConnections()); });
  metrics.AddCallbackGauge("ficus_writer_scylla_ready", "1 while the ScyllaDB store is usable.",
                           [raw] { return raw->Ready() ? 1.0 : 0.0; });
  metrics.AddCallbackCounter(
      "ficus_writer_scylla_cql_retries_total",
      "CQL attempts retried on another host (idempotent statements), since start.",
      [raw] { return static_cast<double>(raw->CqlCounters().retries); });
  metrics.AddCallbackCounter(
      "ficus_writer_scylla_cql_speculative_executions_total",
      "CQL speculative second attempts, since start.",
      [raw] { return static_cast<double>(raw->CqlCounters().speculative_executions); });
  metrics.AddCallbackCounter("ficus_writer_scylla_cql_host_down_total",
                             "CQL hosts marked down (a connection broke), since start.",
                             [raw] { return static_cast<double>(raw->CqlCounters().host_down); });
  metrics.AddCallbackCounter("ficus_writer_scylla_cql_host_up_total",
                             "CQL hosts marked up again (a connection opened), since start.",
                             [raw] { return static_cast<double>(raw->CqlCounters().host_up); });
  return std::unique_ptr<ProfileStore>(std::move(*store));
}

}  // namespace ficus::writer
