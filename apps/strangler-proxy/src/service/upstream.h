// Upstream HTTP/1.1 client of the proxy: keep-alive connection pools, one
// pool per event loop, with connect and response timeouts.
//
// Contract:
//  - UpstreamPool belongs to one io_context and is used only from its thread
//    (no locks on the request path). Idle connections are kept per backend
//    up to `max_idle`; a connection goes back to the pool only after a
//    complete final response that allows keep-alive, read to its framed end
//    with no byte beyond it, so no part of one answer can reach the next
//    exchange on that connection.
//  - Interim answers (1xx other than 101) never end an exchange: they are
//    read and dropped (as nginx does) and the final answer that follows is
//    the response. A 101 (no upgrade was asked for) is an error (kIo).
//  - Exchange() sends one request (head already serialized, body as given)
//    and reads one response into memory (at most `max_response_bytes`).
//    A reused connection that fails before any response byte arrives (the
//    backend closed an idle keep-alive connection) is retried once on a new
//    connection; nothing else is retried.
//  - Errors: kConnect (connect refused/failed or connect timeout), kTimeout
//    (no complete response within the response timeout), kIo (reset, EOF
//    mid-response, unparsable or oversized response).
//  - Timeouts have a granularity of kTimeoutTick (5 ms): a coarse watchdog
//    per pool, not a timer per read and write (hot path).
//  - Never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ficus/http/body_stream.h"
#include "ficus/http/message.h"
#include "ficus/http/tracked_read.h"

namespace ficus::proxy {

struct SimpleResponseHead;  // response_head.h

struct UpstreamTarget {
  std::string name;  // backend name
  std::string key;   // pool key: name@ip:port (set by the builder)
  boost::asio::ip::tcp::endpoint endpoint;
  uint32_t connect_timeout_ms = 1000;
  uint32_t response_timeout_ms = 30000;
  uint32_t max_idle = 256;
  std::string host;  // "host:port", sent as Host when the client sent none
};

enum class UpstreamErrorKind { kNone, kConnect, kTimeout, kIo };
const char* UpstreamErrorName(UpstreamErrorKind k);

// A backend's answer: status, its end-to-end fields in the order received,
// and the decoded body.
struct UpstreamResponse {
  unsigned status = 0;
  // End-to-end fields only: framing and hop-by-hop fields (Content-Length,
  // Transfer-Encoding, Connection, Keep-Alive, TE, Trailer, Upgrade,
  // Proxy-*) are consumed by the pool. Connection stays only when it names
  // other fields, with connection_lists_fields set: those must be stripped.
  http::Headers headers;
  bool connection_lists_fields = false;
  std::string body_;
  [[nodiscard]] unsigned result_int() const { return status; }
  std::string& body() { return body_; }
};

struct UpstreamResult {
  UpstreamErrorKind error = UpstreamErrorKind::kNone;
  std::string detail;  // for logs
  UpstreamResponse response;
  bool reused = false;  // served on a pooled connection
  // ExchangeStreamed(): the client's body failed (not the backend's fault;
  // error is kIo, detail says why).
  bool client_body_error = false;
  [[nodiscard]] bool ok() const { return error == UpstreamErrorKind::kNone; }
};

class UpstreamPool {
 public:
  explicit UpstreamPool(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // `head` is the full request head (request line, fields, CRLF CRLF).
  // `response_timeout_ms` overrides the target's when non-zero (mirrors).
  // `on_sent` (optional) runs once the request is fully written: the proxy
  // dispatches the mirror from there, after the primary is on the wire.
  boost::asio::awaitable<UpstreamResult> Exchange(const UpstreamTarget& target,
                                                  std::string_view head, std::string_view body,
                                                  bool head_request, uint64_t max_response_bytes,
                                                  uint32_t response_timeout_ms = 0,
                                                  const std::function<void()>* on_sent = nullptr);

  // Like Exchange(), but the body is read piece by piece from the client's
  // stream and written as it comes (never held whole): framed with
  // Content-Length when !chunked (the head must carry the client's declared
  // length) or chunked (the head must carry "Transfer-Encoding: chunked").
  // Always a new connection (a streamed body cannot be replayed, so there is
  // no stale-connection retry); it is pooled afterwards as usual. The
  // response timeout applies to each write and to the response, not to the
  // waits for client bytes (the server's body timeout bounds those). A body
  // error aborts the exchange: client_body_error, kIo, the backend
  // connection closed mid-request.
  boost::asio::awaitable<UpstreamResult> ExchangeStreamed(const UpstreamTarget& target,
                                                          std::string_view head,
                                                          http::BodyStream& body, bool chunked,
                                                          bool head_request,
                                                          uint64_t max_response_bytes);

  // Closes every idle connection (drain, reload).
  void CloseIdle();
  [[nodiscard]] std::size_t IdleCount() const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Conn {
    explicit Conn(const boost::asio::any_io_executor& ex) : socket(ex) {}
    boost::asio::ip::tcp::socket socket;
    http::TrackedReadCache read_cache;
    boost::beast::flat_buffer buffer;
    SteadyClock::time_point deadline = SteadyClock::time_point::max();
    bool timed_out = false;
  };
  using Key = std::string;  // name + "@" + endpoint
  enum class ReadOutcome {
    kKeep,    // complete; the connection may be pooled
    kDone,    // complete; the connection must be closed
    kStale,   // a reused connection closed before any response byte
    kFailed,  // result.error / detail set
  };
  // Reads one response on `conn` into result.response.
  boost::asio::awaitable<ReadOutcome> ReadResponse(Conn& conn, UpstreamResult& result,
                                                   bool head_request, uint64_t max_response_bytes);
  // ReadResponse's fast path (response_head.h): the rest of the body.
  boost::asio::awaitable<ReadOutcome> FinishSimpleResponse(Conn& conn, UpstreamResult& result,
                                                           const SimpleResponseHead& h);
  static ReadOutcome CompleteSimpleResponse(Conn& conn, UpstreamResult& result,
                                            const SimpleResponseHead& h);
  std::unique_ptr<Conn> TakeIdle(const Key& key);
  void GiveBack(const Key& key, std::unique_ptr<Conn> conn, uint32_t max_idle);
  // Deadlines: one coarse watchdog timer per pool (ticks while exchanges
  // are active) instead of one timer per I/O operation; an expired
  // connection is cancelled and its exchange reports kTimeout.
  void Arm(Conn* c, std::chrono::milliseconds timeout);
  void Disarm(Conn* c);
  boost::asio::awaitable<void> Watchdog();

  boost::asio::any_io_executor executor_;
  std::unordered_map<Key, std::vector<std::unique_ptr<Conn>>> idle_;
  std::vector<Conn*> active_;
  std::unique_ptr<boost::asio::steady_timer> watchdog_timer_;
  bool watchdog_running_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~UpstreamPool();
};

}  // namespace ficus::proxy
