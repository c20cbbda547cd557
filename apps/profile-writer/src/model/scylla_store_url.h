// The --store URL of the ScyllaDB backend:
//
//   scylla://[user@]host1[:port],host2[:port],[v6::addr]:port/keyspace?param=value&...
//
// Parameters (all optional; unknown ones are errors):
//   consistency         LOCAL_QUORUM (default), QUORUM, LOCAL_ONE, ONE, ALL, ...
//   local_dc            data centre to route to (empty: any)
//   timeout_ms          per-request timeout, 1..60000 (default 2000)
//   connect_timeout_ms  1..60000 (default 2000)
//   shard_aware         true|false (default true): a connection per shard
//   max_in_flight       updates in flight before 503, 1..1000000 (default 4096)
// The keyspace defaults to "ficus"; the port to 9042. The password is never
// in the URL: it comes from FICUS_WRITER_SCYLLA_PASSWORD (see main).
//
// Parse errors are kInvalidArgument naming the part that is wrong, e.g.
// "store URL: parameter 'consistency': unknown consistency 'LOCAL'".
// Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/cql/wire.h"
#include "ficus/result.h"

namespace ficus::writer {

struct ScyllaStoreUrl {
  std::vector<std::string> contact_points;  // "host" or "host:port" as cql::SessionOptions takes
  std::string keyspace = "ficus";
  std::string username;
  cql::Consistency consistency = cql::Consistency::kLocalQuorum;
  std::string local_dc;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  bool shard_aware = true;
  std::size_t max_in_flight = 4096;
};

inline constexpr std::string_view kScyllaScheme = "scylla://";

// True when `store` selects the ScyllaDB backend (starts with scylla://).
bool IsScyllaStoreUrl(std::string_view store);

Result<ScyllaStoreUrl> ParseScyllaStoreUrl(std::string_view url);

// Keyspace names Ficus accepts: [a-z][a-z0-9_]{0,47} (unquoted CQL folds case,
// so upper case is refused rather than silently lowered).
bool IsValidKeyspaceName(std::string_view name);

}  // namespace ficus::writer
