// http::Client: the asynchronous HTTP/1.1 client of Ficus. Pooled
// keep-alive connections per target, connect / send / response / idle /
// total timeouts, streamed request and response bodies, upgrades. The
// proxy's request path (primary, mirror, health checks) runs on it; the
// blocking form for plain threads (replay sender, re-checker, migrator) is
// blocking_client.h. (SyncClient, sync_client.h, is the separate small
// client for TLS and DNS control traffic: etcd, webhooks, scrapes.)
//
// Contract:
//  - A Client belongs to one io_context and is used only from its thread
//    (no locks on the request path). Idle connections are kept per target
//    key (ClientTarget::key) up to `max_idle`; a connection goes back to
//    the pool only after a complete final response that allows keep-alive,
//    read to its framed end with no byte beyond it, so no part of one
//    answer can reach the next exchange on that connection.
//  - Interim answers (1xx other than 101) never end an exchange: they are
//    read and dropped (as nginx does) and the final answer that follows is
//    the response. A 101 (no upgrade was asked for) is an error (kIo).
//  - Exchange() sends one request (head already serialized, body as given)
//    and reads one response into memory (at most `max_response_bytes`).
//    A reused connection that fails before any response byte arrives (the
//    server closed an idle keep-alive connection) is retried once on a new
//    connection; nothing else is retried.
//  - Streaming response (`stream`): the answer's head and the bytes that
//    came with it are returned at once; the rest is read by
//    ClientResponse::rest as its reader asks (never ahead of it:
//    back-pressure), each read bounded by the target's idle timeout, the
//    whole exchange by its total timeout (if set). A body cut by the server,
//    a malformed chunk, or a stall is an error of rest->Read()
//    (kUnavailable / kTimeout), never a short body that looks complete.
//  - Streaming request (ExchangeStreamed()): the body is read piece by
//    piece from a BodyStream and written as it comes, never held whole.
//  - Upgrades (`upgrade`): the request carries Upgrade; a 101 answer makes
//    the connection a tunnel end (ClientResponse::rest, never pooled);
//    any other answer is handled as usual.
//  - Errors (ClientResult::error): kConnect (connect refused/failed or
//    connect timeout: the request was NOT sent), kTimeout (no complete
//    response within the response timeout, or a write stalled past the
//    send timeout), kIo (reset, EOF mid-response, unparsable or oversized
//    response). ClientResult::request_sent says whether any byte of the
//    request was written: false means the server surely never saw it (safe
//    to send again); true with an error means it may have been received
//    and acted on. A non-2xx status is not an error.
//  - Timeouts have a granularity of kTimeoutTick (5 ms): a coarse watchdog
//    per Client, not a timer per read and write (hot path).
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
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ficus/clock.h"
#include "ficus/http/body_stream.h"
#include "ficus/http/message.h"
#include "ficus/http/response_body.h"
#include "ficus/http/tracked_read.h"
#include "ficus/result.h"

namespace ficus::http {

struct SimpleResponseHead;  // response_head.h

struct ClientTarget {
  std::string name;  // backend name
  std::string key;   // pool key: name@ip:port (set by the builder)
  boost::asio::ip::tcp::endpoint endpoint;
  uint32_t connect_timeout_ms = 1000;
  // Request written -> the answer's head (its first bytes), and each write
  // of the request.
  uint32_t response_timeout_ms = 30000;
  // Between two reads of a streamed answer body (a stalled stream is cut).
  uint32_t idle_timeout_ms = 60000;
  // Each write of the request (a backend that stops reading it); 0: the
  // response timeout bounds the writes too. With it set, the response
  // timeout runs from the end of the request.
  uint32_t send_timeout_ms = 0;
  // The whole exchange, connect to the last body byte; 0 = no cap.
  uint32_t total_timeout_ms = 0;
  uint32_t max_idle = 256;
  std::string host;  // "host:port", sent as Host when the client sent none
};

// A target named `name` for host:port: `host` is an IP address, "localhost"
// (127.0.0.1) or a DNS name (resolved now, its first address). Sets
// endpoint, key (name@ip:port) and host ("host:port"); the timeouts keep
// their defaults. InvalidArgument "cannot resolve host '...'" otherwise.
Result<ClientTarget> MakeClientTarget(std::string name, const std::string& host, uint16_t port);

enum class ClientErrorKind { kNone, kConnect, kTimeout, kIo };
const char* ClientErrorName(ClientErrorKind k);

// A backend's answer: status, its end-to-end fields in the order received,
// and the decoded body.
struct ClientResponse {
  unsigned status = 0;
  std::string reason;  // as sent; empty when the backend sent none
  // The declared Content-Length, if any (a HEAD answer's is kept for the
  // client: the length a GET would have had).
  std::optional<uint64_t> content_length;
  // End-to-end fields only: framing and hop-by-hop fields (Content-Length,
  // Transfer-Encoding, Connection, Keep-Alive, TE, Trailer, Upgrade,
  // Proxy-*) are consumed by the pool. Connection stays only when it names
  // other fields, with connection_lists_fields set: those must be stripped.
  http::Headers headers;
  bool connection_lists_fields = false;
  std::string body_;
  // Streamed answers (Exchange(..., stream = true)): body_ holds what
  // arrived with the head, `rest` yields the remainder (it owns the backend
  // connection and gives it back to the pool once read to the end; dropped
  // early, the connection is closed). nullptr: body_ is the whole body.
  std::shared_ptr<http::ResponseBody> rest;
  // Set when content_length holds the length of the whole body (the answer
  // was framed by Content-Length, not chunked or close-delimited).
  bool length_framed = false;
  // A 101 to an upgrade request (Exchange(..., upgrade = true)): the
  // backend's Upgrade field; `rest` is then the tunnel's backend end
  // (ResponseBody::Tunnel pipes it to the client connection).
  std::string upgrade;
  [[nodiscard]] unsigned result_int() const { return status; }
  std::string& body() { return body_; }
};

struct ClientResult {
  ClientErrorKind error = ClientErrorKind::kNone;
  std::string detail;  // for logs
  ClientResponse response;
  bool reused = false;  // served on a pooled connection
  // ExchangeStreamed(): the client's body failed (not the backend's fault;
  // error is kIo, detail says why).
  bool client_body_error = false;
  // Some byte of the request was written (see the contract above): with an
  // error, the server may have received and applied it; false: it did not.
  bool request_sent = false;
  [[nodiscard]] bool ok() const { return error == ClientErrorKind::kNone; }
};

// The two exchanges, with Client's contract: Client is the one
// implementation; users' unit tests may put a scripted one in its place
// (the proxy's do).
class Exchanger {
 public:
  virtual ~Exchanger() = default;
  virtual boost::asio::awaitable<ClientResult> Exchange(
      const ClientTarget& target, std::string_view head, std::string_view body, bool head_request,
      uint64_t max_response_bytes, uint32_t response_timeout_ms,
      const std::function<void()>* on_sent, bool stream, bool upgrade) = 0;
  virtual boost::asio::awaitable<ClientResult> ExchangeStreamed(
      const ClientTarget& target, std::string_view head, http::BodyStream& body, bool chunked,
      bool head_request, uint64_t max_response_bytes, bool stream) = 0;
};

class Client final : public Exchanger {
 public:
  explicit Client(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `head` is the full request head (request line, fields, CRLF CRLF).
  // `response_timeout_ms` overrides the target's when non-zero (mirrors).
  // `on_sent` (optional) runs once the request is fully written (the proxy
  // dispatches its mirror from there, after the primary is on the wire).
  // `stream`: an answer body not complete with its head is not read whole
  // (and `max_response_bytes` does not apply): see ClientResponse::rest.
  boost::asio::awaitable<ClientResult> Exchange(const ClientTarget& target, std::string_view head,
                                                std::string_view body, bool head_request,
                                                uint64_t max_response_bytes,
                                                uint32_t response_timeout_ms = 0,
                                                const std::function<void()>* on_sent = nullptr,
                                                bool stream = false, bool upgrade = false) override;

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
  boost::asio::awaitable<ClientResult> ExchangeStreamed(
      const ClientTarget& target, std::string_view head, http::BodyStream& body, bool chunked,
      bool head_request, uint64_t max_response_bytes, bool stream = false) override;

  // Called with +1 when an upgrade tunnel starts piping, -1 when it ends
  // (metrics); set once, before use.
  void SetTunnelObserver(std::function<void(int)> f) { tunnel_observer_ = std::move(f); }
  [[nodiscard]] bool has_tunnel_observer() const { return static_cast<bool>(tunnel_observer_); }

  // Closes every idle connection (drain, reload).
  void CloseIdle();
  [[nodiscard]] std::size_t IdleCount() const;

  struct StreamSlot;  // client.cc: how a streamed body continues

 private:
  friend class ClientBody;
  friend class ClientTunnel;
  struct Conn {
    explicit Conn(const boost::asio::any_io_executor& ex) : socket(ex) {}
    boost::asio::ip::tcp::socket socket;
    http::TrackedReadCache read_cache;
    boost::beast::flat_buffer buffer;
    MonoTime deadline = MonoTime::max();
    bool timed_out = false;
  };
  using Key = std::string;  // name + "@" + endpoint
  enum class ReadOutcome {
    kKeep,       // complete; the connection may be pooled
    kDone,       // complete; the connection must be closed
    kStale,      // a reused connection closed before any response byte
    kFailed,     // result.error / detail set
    kStreaming,  // head read, the body continues (StreamSlot)
    kUpgraded,   // 101 to an upgrade request: the connection is a tunnel now
  };
  // Reads one response on `conn` into result.response.
  // With `slot`, an answer whose body continues past the bytes read so far
  // ends as kStreaming: the slot says how the body continues, the caller
  // hands the connection to an ClientBody.
  boost::asio::awaitable<ReadOutcome> ReadResponse(Conn& conn, ClientResult& result,
                                                   bool head_request, uint64_t max_response_bytes,
                                                   StreamSlot* slot = nullptr,
                                                   bool upgrade = false);
  // Wraps the connection of a kStreaming answer into result.response.rest.
  void StartStream(std::unique_ptr<Conn> conn, StreamSlot& slot, const ClientTarget& target,
                   MonoTime started, ClientResult& result);
  // ReadResponse's fast path (response_head.h): the rest of the body.
  boost::asio::awaitable<ReadOutcome> FinishSimpleResponse(Conn& conn, ClientResult& result,
                                                           const SimpleResponseHead& h);
  static ReadOutcome CompleteSimpleResponse(Conn& conn, ClientResult& result,
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
  std::function<void(int)> tunnel_observer_;

 public:
  ~Client() override;
};

}  // namespace ficus::http
