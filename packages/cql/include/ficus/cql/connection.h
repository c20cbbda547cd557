// One CQL v4 connection: handshake, stream-id multiplexing, per-request
// timeouts.
//
// Contract:
//  - Threads: a Connection lives on one executor and every member must be
//    called from it (one io_context per thread is the Ficus model). It is
//    not thread-safe.
//  - Open() connects (optionally from a fixed local port, for Scylla's
//    shard-aware port), sends OPTIONS then STARTUP, and answers
//    PasswordAuthenticator with SASL PLAIN when credentials are given.
//  - Send() may be called many times concurrently; each request gets a free
//    stream id (0..max_streams-1). Responses may arrive in any order.
//  - A request that times out returns kTimeout, but its stream id stays
//    reserved ("orphaned") until the late response arrives (and is dropped)
//    or the connection closes: a late answer is never delivered to a newer
//    request that reused the id.
//  - When no stream id is free Send() fails at once with kUnavailable.
//  - On any I/O or framing error the connection closes: every waiting
//    request fails with kUnavailable and the on-close callback runs once.
//  - Server ERROR frames are returned as data (ResponseFrame with an
//    ErrorResponse), so callers can react to UNPREPARED.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ficus/cql/frame.h"
#include "ficus/result.h"

namespace ficus::cql {

// ScyllaDB sharding parameters from SUPPORTED (protocol-extensions.md).
struct ScyllaSharding {
  unsigned shard = 0;      // shard this connection landed on
  unsigned nr_shards = 1;  // shards on the node
  unsigned ignore_msb = 0;
  std::optional<std::uint16_t> shard_aware_port;
};
// Present only when SUPPORTED advertises SCYLLA_NR_SHARDS with the
// biased-token-round-robin algorithm; malformed values disable it.
std::optional<ScyllaSharding> ParseScyllaSharding(const StringMultimap& supported);

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds handshake_timeout{2000};
  std::string username;  // empty: no credentials
  std::string password;
  int max_streams = 1024;                   // 1..32768
  std::optional<std::uint16_t> local_port;  // bind before connecting
  std::uint32_t max_frame_body = kMaxBodySize;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Executor = boost::asio::any_io_executor;
  using Endpoint = boost::asio::ip::tcp::endpoint;

  static boost::asio::awaitable<Result<std::shared_ptr<Connection>>> Open(
      Executor ex, Endpoint peer, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request and waits for its response or `timeout`.
  boost::asio::awaitable<Result<ResponseFrame>> Send(Request request,
                                                     std::chrono::milliseconds timeout);

  // Closes the socket; pending requests fail with kUnavailable.
  void Close(std::string_view reason = "closed by client");
  // Runs once when the connection closes for any reason (not from Close()
  // called inside the destructor).
  void SetOnClose(std::function<void(std::string_view reason)> cb) { on_close_ = std::move(cb); }

  [[nodiscard]] bool is_open() const { return open_; }
  [[nodiscard]] const Endpoint& peer() const { return peer_; }
  [[nodiscard]] std::uint16_t local_port() const { return local_port_; }
  [[nodiscard]] const StringMultimap& supported() const { return supported_; }
  [[nodiscard]] const std::optional<ScyllaSharding>& sharding() const { return sharding_; }
  [[nodiscard]] std::size_t in_flight() const { return in_flight_; }
  [[nodiscard]] std::size_t orphaned() const { return orphaned_; }
  [[nodiscard]] std::size_t free_streams() const { return free_ids_.size(); }

 private:
  struct Pending;
  Connection(Executor ex, Endpoint peer, ConnectionOptions options);

  boost::asio::awaitable<Status> Handshake();
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<void> WriteLoop();
  void Deliver(std::int16_t stream, Result<ResponseFrame> frame);
  void Fail(std::string reason);

  Executor ex_;
  Endpoint peer_;
  ConnectionOptions options_;
  boost::asio::ip::tcp::socket socket_;
  bool open_ = false;
  bool writing_ = false;
  std::uint16_t local_port_ = 0;
  std::vector<std::shared_ptr<Pending>> slots_;  // index = stream id
  std::vector<std::int16_t> free_ids_;
  std::size_t in_flight_ = 0;
  std::size_t orphaned_ = 0;
  std::vector<std::uint8_t> write_buffer_;
  StringMultimap supported_;
  std::optional<ScyllaSharding> sharding_;
  std::function<void(std::string_view)> on_close_;
};

}  // namespace ficus::cql
