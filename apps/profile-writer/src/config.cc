#include "config.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "model/scylla_store_url.h"

namespace ficus::writer {

Result<std::shared_ptr<const Config>> LoadConfig(int argc, char** argv) {
  auto cfg = std::make_shared<Config>();
  std::string listen = "127.0.0.1:8082";
  CLI::App app{"profile-writer: the Ficus profile write service (RocksDB store)"};
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->envname("FICUS_WRITER_LISTEN");
  app.add_option("--data-dir", cfg->data_dir, "RocksDB directory (created if missing)")
      ->envname("FICUS_WRITER_DATA_DIR");
  app.add_option("--store", cfg->store,
                 "rocksdb (default) or scylla://host1:9042,host2/keyspace?consistency=LOCAL_QUORUM"
                 "&local_dc=dc1 (password: FICUS_WRITER_SCYLLA_PASSWORD)")
      ->envname("FICUS_WRITER_STORE");
  app.add_option("--threads", cfg->threads, "HTTP event loops (1..64)")
      ->envname("FICUS_WRITER_THREADS");
  app.add_option("--queue-size", cfg->queue_size,
                 "updates waiting for the writer before 503 (1..1000000)")
      ->envname("FICUS_WRITER_QUEUE_SIZE");
  app.add_option("--max-batch", cfg->max_batch, "updates per synced write (1..100000)")
      ->envname("FICUS_WRITER_MAX_BATCH");
  app.add_option("--max-connections", cfg->max_connections, "open connections (1..1000000)")
      ->envname("FICUS_WRITER_MAX_CONNECTIONS");
  app.add_option("--drain-timeout-ms", cfg->drain_timeout_ms,
                 "on SIGTERM, wait this long for in-flight requests (0..600000)")
      ->envname("FICUS_WRITER_DRAIN_TIMEOUT_MS");
  app.add_option("--log-level", cfg->log_level, "trace|debug|info|warn|error|critical|off")
      ->envname("FICUS_WRITER_LOG_LEVEL");
  app.add_flag("--unsafe-no-sync", cfg->unsafe_no_sync,
               "answer 200 without fsyncing the WAL (benchmarks only; NOT durable)")
      ->envname("FICUS_WRITER_UNSAFE_NO_SYNC");
  app.add_option("--bulk-token-file", cfg->bulk_token_file,
                 "bearer tokens for POST /internal/profile/{import,get} (name:secret lines; "
                 "unset: those endpoints answer 403)")
      ->envname("FICUS_WRITER_BULK_TOKEN_FILE");
  app.add_option("--bulk-max-body-bytes", cfg->bulk_max_body_bytes,
                 "largest bulk request body (65536..268435456; default 16 MiB)")
      ->envname("FICUS_WRITER_BULK_MAX_BODY_BYTES");
  app.add_flag("--no-bulk-endpoints", cfg->no_bulk_endpoints,
               "answer 404 on /internal/profile/{import,get}, as a writer from before the bulk "
               "endpoints (tests of tools' fallback to the single-update API)")
      ->envname("FICUS_WRITER_NO_BULK_ENDPOINTS");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return std::shared_ptr<const Config>();
  } catch (const CLI::ParseError& e) {
    return MakeError(ErrorCode::kInvalidArgument, e.what());
  }
  auto bad = [](std::string m) { return MakeError(ErrorCode::kInvalidArgument, std::move(m)); };

  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return bad("--listen (FICUS_WRITER_LISTEN): must be HOST:PORT, got '" + listen + "'");
  }
  cfg->listen_host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return bad("--listen (FICUS_WRITER_LISTEN): port must be 0..65535, got '" + port + "'");
  }
  cfg->listen_port = static_cast<std::uint16_t>(std::stoul(port));
  if (IsScyllaStoreUrl(cfg->store)) {
    if (auto url = ParseScyllaStoreUrl(cfg->store); !url) {
      return bad("--store (FICUS_WRITER_STORE): " + url.error().message);
    }
  } else if (cfg->store != "rocksdb") {
    return bad("--store (FICUS_WRITER_STORE): must be rocksdb or a scylla:// URL, got '" +
               cfg->store + "'");
  } else if (cfg->data_dir.empty()) {
    return bad("--data-dir (FICUS_WRITER_DATA_DIR): required");
  }
  if (cfg->threads < 1 || cfg->threads > 64) {
    return bad("--threads (FICUS_WRITER_THREADS): must be 1..64");
  }
  if (cfg->queue_size < 1 || cfg->queue_size > 1000000) {
    return bad("--queue-size (FICUS_WRITER_QUEUE_SIZE): must be 1..1000000");
  }
  if (cfg->max_batch < 1 || cfg->max_batch > 100000) {
    return bad("--max-batch (FICUS_WRITER_MAX_BATCH): must be 1..100000");
  }
  if (cfg->max_connections < 1 || cfg->max_connections > 1000000) {
    return bad("--max-connections (FICUS_WRITER_MAX_CONNECTIONS): must be 1..1000000");
  }
  if (cfg->drain_timeout_ms > 600000) {
    return bad("--drain-timeout-ms (FICUS_WRITER_DRAIN_TIMEOUT_MS): must be 0..600000");
  }
  if (cfg->bulk_max_body_bytes < 65536 || cfg->bulk_max_body_bytes > (256UL << 20)) {
    return bad(
        "--bulk-max-body-bytes (FICUS_WRITER_BULK_MAX_BODY_BYTES): must be 65536..268435456");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || cfg->log_level == l;
  if (!level_ok) {
    return bad(
        "--log-level (FICUS_WRITER_LOG_LEVEL): must be one of trace, debug, info, warn, "
        "error, critical, off");
  }
  return std::shared_ptr<const Config>(std::move(cfg));
}

}  // namespace ficus::writer
