// The writer's configuration: one immutable struct, loaded from command-line
// flags and FICUS_WRITER_* environment variables (a flag wins over its
// variable), validated at load. Errors name the flag.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ficus/result.h"

namespace ficus::writer {

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8082;
  std::string data_dir;
  // "rocksdb" (default, embedded in data_dir) or a scylla:// URL
  // (model/scylla_store_url.h), validated at load.
  std::string store = "rocksdb";
  unsigned threads = 1;
  std::size_t queue_size = 8192;
  std::size_t max_batch = 1024;
  std::size_t max_connections = 10000;
  unsigned drain_timeout_ms = 10000;
  std::string log_level = "info";
  bool unsafe_no_sync = false;
  // Bearer tokens of the bulk endpoints (name:secret lines, as the proxy's
  // admin.token_file); empty: those endpoints answer 403.
  std::string bulk_token_file;
  std::size_t bulk_max_body_bytes = 16UL << 20;
  // --no-bulk-endpoints: /internal/profile/{import,get} answer 404, as a
  // writer from before the bulk endpoints (tools' fallback tests).
  bool no_bulk_endpoints = false;
};

// Parses argv. Ok(nullptr) when --help was printed (exit 0).
// Errors (kInvalidArgument) carry a message naming the flag and its variable.
Result<std::shared_ptr<const Config>> LoadConfig(int argc, char** argv);

}  // namespace ficus::writer
