// Server: an HTTP/1.1 server on Boost.Asio C++20 coroutines.
//
// Model: `threads` event loops, each an io_context run by one thread with
// its own acceptor bound to the same address:port (SO_REUSEPORT; the kernel
// spreads new connections). A connection lives on one loop for its whole
// life; its requests are read, handled and answered strictly in order
// (pipelined requests are answered in request order; responses to requests
// already buffered are written together).
//
// Before any handler runs, each request goes through RequestParser (see
// request_parser.h for the exact rules): malformed or ambiguous requests get
// 400, long URIs 414, large heads 431, bodies over the limit 413 (from
// Content-Length, before the body is read; a chunked body is cut off when it
// passes the limit), a head not received within header_timeout 408. These
// responses are the JSON envelope {"ret":S,"data":null,"msg":"..."} and close
// the connection. An idle keep-alive connection is closed after
// idle_timeout; connections over max_connections are closed at accept.
//
// Handler contract:
//   - called on the connection's loop thread, once per request, with a
//     Request it may modify or move from; it returns (co_returns) the
//     Response. It may co_await anything that resumes on the same executor
//     (timers, Client, Completion<T> for work done on other threads).
//   - must not block the thread (that stalls every connection of the loop).
//   - an exception escaping the handler becomes a 500 envelope
//     ("internal: handler failed") and closes the connection.
//   - The library sets Content-Length and Connection itself; those fields
//     (and Transfer-Encoding) in Response::headers are ignored. A handler
//     that sets "Connection: close" gets the connection closed afterwards.
//
// Streaming mode (opt-in, per request): when ServerOptions::stream_body
// returns true for a parsed head whose body is not empty, the body is not
// read before the handler; Request::body stays empty and the handler reads
// Request::body_stream instead (body_stream.h: same limits, same body
// timeout counted from the end of the head, same rejection of malformed
// chunking, bytes that arrived with the head come first). Responses to
// earlier pipelined requests are written before such a handler runs. After
// the handler: a body error is answered by the server (400/413/408
// envelope, the handler's response discarded) and closes the connection; a
// body the handler did not read to the end closes the connection after the
// response ("Connection: close"); a fully read body leaves the connection
// reusable (keep-alive, pipelining) exactly as in buffered mode.
//
// Streamed responses (Response::stream, response_body.h): the head goes out
// with Content-Length when Response::content_length declares the length,
// else "Transfer-Encoding: chunked" to HTTP/1.1 clients and no framing
// ("Connection: close") to HTTP/1.0 ones; then Response::body, then each
// piece the source yields, read only after the previous one is written
// (back-pressure: a slow client slows the source, nothing piles up). Each
// write is bounded by write_timeout; the waits for the source are bounded
// by the source's own timeouts. A source error, or a length that differs
// from the declared one, aborts the connection (reset, no last chunk): a
// cut body never looks complete. HEAD answers and 1xx/204/304 carry no
// body; the source is then dropped unread.
//
// Upgrades: a 101 answer whose Response::stream is set is written with
// "Connection: upgrade", and the connection is then handed to
// stream->Tunnel() (response_body.h) until it returns; it is never reused.
//
// Lifecycle: Start() binds and starts the loops (call once). Drain(deadline)
// may be called from any thread that is not a loop thread (e.g. the signal
// handler thread); it stops accepting, closes idle connections, lets
// in-flight requests finish (their responses carry "Connection: close"),
// force-closes what is left at the deadline, stops the loops and joins the
// threads. Wait() blocks until Drain has finished. The destructor drains
// with a zero deadline if needed.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ficus/http/body_stream.h"
#include "ficus/http/message.h"
#include "ficus/http/request_parser.h"
#include "ficus/result.h"

namespace ficus::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// Called on the loop thread once the head of a request is parsed and
// validated, before the body is read and before the body-size check (so a
// service can answer e.g. 405 or 404 first). Return a Response to answer
// without reading the body (the connection is then closed if a body was
// still to be read), or nullopt to continue. Request::body is empty here.
using HeadCheck = std::function<std::optional<Response>(const Request&)>;

// Called on the loop thread after HeadCheck and the declared-length check,
// only for a request that has a body to read. true: stream it (see
// "Streaming mode" above); false: buffer it into Request::body (default).
using StreamBodyPredicate = std::function<bool(const Request&)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free port (all loops share it)
  unsigned threads = 1;    // event loops; 0 = std::thread::hardware_concurrency()
  ParserLimits limits;     // header / URI / body limits
  std::chrono::milliseconds header_timeout{10'000};  // first byte of a request -> end of head
  std::chrono::milliseconds body_timeout{30'000};    // end of head -> end of body
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // writing one response
  std::size_t max_connections = 10'000;              // over it: closed at accept
  int backlog = 1024;
  HeadCheck head_check;             // optional
  StreamBodyPredicate stream_body;  // optional; unset: every body is buffered
};

struct ServerCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t requests_total = 0;                          // handed to the handler
  std::uint64_t requests_in_flight = 0;                      // handler running
  std::array<std::uint64_t, kRejectReasonCount> rejected{};  // index: RejectReason
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every loop's acceptor and starts the threads. Returns the bound
  // port. Errors: kInvalidArgument (bad address), kUnavailable (bind/listen
  // failed, message has the OS error).
  Result<std::uint16_t> Start();

  // Graceful drain (see above). Returns true if every connection finished
  // before the deadline, false if some were force-closed. Idempotent.
  bool Drain(std::chrono::steady_clock::duration deadline);

  // Blocks until Drain() has completed (returns at once if never started).
  void Wait();

  std::uint16_t port() const { return port_; }
  // Sums of the per-loop counters; callable from any thread.
  ServerCounters Counters() const;
  // The loops' executors (e.g. to co_spawn background work onto a loop).
  std::vector<boost::asio::any_io_executor> Executors() const;

  struct Worker;  // implementation detail (server.cc)

 private:
  ServerOptions options_;
  Handler handler_;
  std::atomic<std::size_t> total_active_{0};  // all loops; outlives workers_
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace ficus::http
