// A CQL session over a cluster: topology, token-aware and shard-aware
// routing, per-host connection pools, reconnects, prepared statements.
//
// Contract:
//  - Threads: a Session and its connections run on one executor (a
//    single-threaded io_context); call every member from it.
//  - Connect() opens a control connection to the first reachable contact
//    point, reads system.local and system.peers (data centre, rack, tokens,
//    rpc address), then opens a pool per host. With ScyllaDB's sharding
//    extension (SUPPORTED: SCYLLA_NR_SHARDS, biased-token-round-robin) the
//    pool has one connection per shard, opened on SCYLLA_SHARD_AWARE_PORT
//    from a local port p with p % nr_shards == shard; otherwise one
//    connection per host (Cassandra).
//  - Routing: a request with a routing token goes to the replica owning the
//    token on the Murmur3 ring (the first ring token >= the request token,
//    wrapping), restricted to `local_dc` when set, and on Scylla to the
//    connection of the shard that owns the token. Without a token, or when
//    that connection is down, any open connection (local DC first) is used.
//  - A dropped connection is reopened in the background with exponential
//    backoff and jitter (Backoff), per host, never more than one attempt
//    loop per host at a time.
//  - Prepared statements are cached by query text; Prepare() prepares on
//    one connection of every host. An EXECUTE (or BATCH)
//    answered UNPREPARED is re-prepared on the same connection and retried;
//    each distinct statement is re-prepared at most once per request (a
//    BATCH's answer names one unknown id at a time), and an UNPREPARED for
//    an id already re-prepared is returned as an error (no loops).
//  - Errors: server errors map through ToError(); no host: kUnavailable;
//    deadline: kTimeout.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ficus/cql/backoff.h"
#include "ficus/cql/connection.h"
#include "ficus/cql/frame.h"
#include "ficus/result.h"

namespace ficus::cql {

struct SessionOptions {
  std::vector<std::string> contact_points;  // "host" or "host:port" (IP literals or names)
  std::uint16_t port = 9042;
  std::string local_dc;  // empty: any data centre
  Consistency consistency = Consistency::kLocalQuorum;
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::string username;
  std::string password;
  bool shard_aware = true;
  int max_streams_per_connection = 1024;
  std::chrono::milliseconds reconnect_base{100};
  std::chrono::milliseconds reconnect_max{10000};
  std::uint64_t random_seed = 0;  // 0: seeded from std::random_device
  // Local ports tried for shard-aware connections.
  std::uint16_t local_port_min = 20000;
  std::uint16_t local_port_max = 60000;
};

struct PreparedStatement {
  std::string query;
  Bytes id;
  std::vector<std::uint16_t> pk_indexes;
  std::vector<ColumnSpec> bind_columns;
};
using PreparedPtr = std::shared_ptr<const PreparedStatement>;

struct ExecOptions {
  std::optional<Consistency> consistency;  // default: SessionOptions::consistency
  std::optional<std::int64_t> timestamp;   // client timestamp (flag 0x20), microseconds
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::int32_t> page_size;
  std::optional<Bytes> paging_state;
  std::optional<std::int64_t> routing_token;  // for QUERY; EXECUTE derives it from pk values
};

struct BatchItem {
  PreparedPtr statement;
  std::vector<Value> values;
};

struct HostInfo {
  std::string address;
  std::string datacenter;
  std::string rack;
  std::size_t token_count = 0;
  unsigned nr_shards = 1;
  std::size_t open_connections = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Executor = boost::asio::any_io_executor;

  static boost::asio::awaitable<Result<std::shared_ptr<Session>>> Connect(Executor ex,
                                                                          SessionOptions options);
  ~Session();

  boost::asio::awaitable<Result<ResultBody>> Query(std::string cql, std::vector<Value> values = {},
                                                   ExecOptions opts = {});
  boost::asio::awaitable<Result<PreparedPtr>> Prepare(std::string cql);
  boost::asio::awaitable<Result<ResultBody>> Execute(PreparedPtr stmt, std::vector<Value> values,
                                                     ExecOptions opts = {});
  // Unlogged batch; routed by the first statement's partition key.
  boost::asio::awaitable<Result<ResultBody>> Batch(std::vector<BatchItem> items,
                                                   ExecOptions opts = {});

  // Re-reads system.local/system.peers and opens pools for new hosts.
  boost::asio::awaitable<Status> RefreshTopology();
  // Stops reconnecting and closes every connection.
  void Close();

  [[nodiscard]] bool IsConnected() const;  // at least one open connection
  [[nodiscard]] std::vector<HostInfo> Hosts() const;
  // The host address and shard a token routes to (for tests and diagnostics).
  [[nodiscard]] std::optional<std::pair<std::string, unsigned>> RouteOf(std::int64_t token) const;
  // Routing token of a prepared statement bound with `values`, if its
  // partition key is fully bound.
  [[nodiscard]] static std::optional<std::int64_t> TokenOf(const PreparedStatement& stmt,
                                                           const std::vector<Value>& values);
  [[nodiscard]] std::size_t reconnect_attempts() const { return reconnect_attempts_; }

 private:
  struct Host;
  Session(Executor ex, SessionOptions options);

  boost::asio::awaitable<Status> LoadTopology(std::shared_ptr<Connection> conn);
  boost::asio::awaitable<Status> FillPool(std::shared_ptr<Host> host);
  boost::asio::awaitable<Result<std::shared_ptr<Connection>>> OpenTo(
      const std::shared_ptr<Host>& host, std::optional<unsigned> shard);
  void Adopt(const std::shared_ptr<Host>& host, const std::shared_ptr<Connection>& conn);
  void ScheduleReconnect(const std::shared_ptr<Host>& host);
  boost::asio::awaitable<void> ReconnectLoop(std::shared_ptr<Host> host);
  std::shared_ptr<Connection> Pick(std::optional<std::int64_t> token);
  std::shared_ptr<Host> Owner(std::int64_t token) const;
  boost::asio::awaitable<Result<ResultBody>> RunWithReprepare(Request req,
                                                              std::optional<std::int64_t> token,
                                                              std::chrono::milliseconds timeout);
  QueryParameters Params(std::vector<Value> values, const ExecOptions& opts) const;
  ConnectionOptions ConnOptions() const;

  Executor ex_;
  SessionOptions options_;
  Backoff backoff_;
  std::mt19937_64 rng_;
  bool closed_ = false;
  std::map<std::string, std::shared_ptr<Host>> hosts_;                // by address
  std::vector<std::pair<std::int64_t, std::shared_ptr<Host>>> ring_;  // sorted by token
  std::map<std::string, PreparedPtr> prepared_;                       // by query text
  std::map<Bytes, std::string> query_of_id_;                          // for re-prepare
  std::size_t round_robin_ = 0;
  std::size_t reconnect_attempts_ = 0;
};

}  // namespace ficus::cql
