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
//  - Retries (retry_policy.h): a statement marked idempotent
//    (ExecOptions::idempotent) is tried again on the next host - the
//    token's other replicas first, then any host, each at most once - when
//    its connection breaks, when an attempt gets no answer within
//    RetryOptions::attempt_timeout, or when the coordinator answers
//    Overloaded, IsBootstrapping or Unavailable; at most
//    1 + RetryOptions::max_retries attempts, all within the request's
//    timeout (its deadline). A statement not marked idempotent is sent once
//    and may use the whole timeout.
//  - Host state: a host one of whose connections breaks is marked down at
//    once; requests avoid it (a down host is used only when no host is up)
//    while its pool is reopened in the background with backoff; the first
//    connection that opens marks it up again.
//  - Speculative execution (opt-in, ExecOptions::speculative on an
//    idempotent statement, with RetryOptions::speculative_delay set): when
//    the first attempt has not answered after the delay, the same request
//    goes to a second host; the first answer that is not a retryable
//    failure wins, the other is dropped when it arrives.
//  - stats(): retries, speculative executions, host down/up transitions.
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
#include "ficus/cql/retry_policy.h"
#include "ficus/result.h"

namespace ficus::cql {

struct RetryOptions {
  int max_retries = 2;  // further attempts, each on a host not tried yet
  // An idempotent request's attempt that gets no answer in this time is
  // tried on the next host (bounded by what is left of the request timeout;
  // when no untried host is left, the attempt gets all that is left).
  std::chrono::milliseconds attempt_timeout{1000};
  std::optional<std::chrono::milliseconds> speculative_delay;  // unset: never
};

struct SessionStats {
  std::uint64_t retries = 0;                 // attempts after the first
  std::uint64_t speculative_executions = 0;  // second attempts started by the delay
  std::uint64_t host_down = 0;               // up -> down transitions
  std::uint64_t host_up = 0;                 // down -> up transitions
};

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
  RetryOptions retry;
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
  // Running it twice has the effect of running it once (a write with a
  // client timestamp, a read): it may be retried on another host.
  bool idempotent = false;
  // Also send it to a second host after RetryOptions::speculative_delay
  // (idempotent reads; ignored unless idempotent).
  bool speculative = false;
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
  bool up = true;
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
  [[nodiscard]] const SessionStats& stats() const { return stats_; }

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
  struct Attempt;
  struct Race;
  // An open connection for a request, skipping hosts in `tried`: the
  // token's owner, then its other replicas (ring order), then any host (local
  // DC first, round robin); hosts that are up before hosts that are down.
  std::pair<std::shared_ptr<Connection>, std::shared_ptr<Host>> Pick(
      std::optional<std::int64_t> token, const std::vector<const Host*>& tried = {});
  std::shared_ptr<Host> Owner(std::int64_t token) const;
  void MarkDown(Host& host);
  void MarkUp(Host& host);
  boost::asio::awaitable<Result<ResultBody>> Run(Request req, std::optional<std::int64_t> token,
                                                 const ExecOptions& opts);
  boost::asio::awaitable<Result<ResultBody>> RunWithReprepare(std::shared_ptr<Connection> conn,
                                                              Request req,
                                                              std::chrono::milliseconds timeout,
                                                              AttemptError* failure);
  static boost::asio::awaitable<void> RunRaced(std::shared_ptr<Session> self,
                                               std::shared_ptr<Race> race,
                                               std::shared_ptr<Connection> conn, Request req,
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
  SessionStats stats_;
};

}  // namespace ficus::cql
