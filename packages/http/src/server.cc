#include "ficus/http/server.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstdio>
#include <unordered_set>

#include "ficus/http/response_body.h"
#include "ficus/http/tracked_read.h"
#include "wire.h"

namespace ficus::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024UL;
constexpr std::size_t kMaxPipelinedOutput = 64 * 1024UL;
constexpr auto kLingerTime = std::chrono::milliseconds(1000);

class Connection;

}  // namespace

struct Server::Worker {
  // Everything a Connection touches in its destructor is declared before
  // `io`, so it outlives the connections destroyed together with `io`.
  std::unordered_set<Connection*> connections;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::array<std::atomic<std::uint64_t>, kRejectReasonCount> rejected{};
  Server* server = nullptr;
  // One thread runs this loop and every socket of it is used only from that
  // thread (Drain posts its closes here), so the reactor's per-socket locks
  // are off; posting from other threads stays safe (the scheduler still
  // locks). Worth about 1% of the proxy's CPU (pthread_mutex in perf).
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::optional<tcp::acceptor> acceptor;

  void Reject(RejectReason r) {
    rejected[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
};

namespace {

enum class ConnState { kIdle, kReadingHead, kReadingBody, kHandling, kWriting, kClosing };

class Connection;

// The body of a streamed request, read through its connection.
class StreamedBody final : public BodyStream {
 public:
  explicit StreamedBody(Connection* c) : c_(c) {}
  asio::awaitable<Result<std::string_view>> Read() override;
  std::optional<std::uint64_t> content_length() const override;
  bool done() const override;
  std::uint64_t bytes_read() const override { return bytes_read_; }

 private:
  friend class Connection;
  Connection* c_;
  std::uint64_t bytes_read_ = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket sock, Server::Worker* w, const ServerOptions* opts, const Handler* handler,
             const std::atomic<bool>* draining, std::atomic<std::size_t>* total_active)
      : sock_(std::move(sock)),
        timer_(sock_.get_executor()),
        worker_(w),
        opts_(opts),
        handler_(handler),
        draining_(draining),
        total_active_(total_active),
        parser_(opts->limits),
        stream_(this) {
    error_code ec;
    remote_ = sock_.remote_endpoint(ec);
    sock_.set_option(tcp::no_delay(true), ec);
    sock_.non_blocking(true, ec);
    worker_->connections.insert(this);
  }

  ~Connection() {
    worker_->connections.erase(this);
    worker_->active.fetch_sub(1, std::memory_order_relaxed);
    total_active_->fetch_sub(1, std::memory_order_acq_rel);
  }

  void Start() {
    auto self = shared_from_this();
    asio::co_spawn(sock_.get_executor(), Watchdog(self), asio::detached);
    asio::co_spawn(sock_.get_executor(), Run(self), asio::detached);
  }

  // Drain: close if waiting for a request; otherwise the current request
  // finishes and its response says "Connection: close".
  void CloseIfIdle() {
    if (state_ == ConnState::kIdle && buf_.size() == 0) {
      drain_closed_ = true;
      error_code ec;
      sock_.cancel(ec);
    }
  }

  void ForceClose() {
    error_code ec;
    closed_ = true;
    sock_.close(ec);
    timer_.cancel();
  }

  // StreamedBody::Read(): the next decoded piece of a streamed body.
  asio::awaitable<Result<std::string_view>> ReadBodyPiece() {
    if (stream_error_) co_return tl::unexpected(*stream_error_);
    if (!streaming_) co_return MakeError(ErrorCode::kInternal, "body: read after the handler");
    piece_.clear();
    error_code ec;
    for (;;) {
      if (parser_.body_done()) {
        deadline_ = Clock::time_point::max();  // body complete: no body timeout any more
        stream_.bytes_read_ += piece_.size();
        co_return std::string_view(piece_);
      }
      std::size_t used = 0;
      auto st = parser_.ParseBody(Buffered(), &used);
      buf_.consume(used);
      if (st == RequestParser::Status::kRejected) {
        co_return FailStream(parser_.rejection());
      }
      if (!piece_.empty()) {
        stream_.bytes_read_ += piece_.size();
        co_return std::string_view(piece_);
      }
      if (st == RequestParser::Status::kDone) continue;
      if (timed_out_ || Clock::now() >= body_deadline_) {
        const Rejection timeout{408, RejectReason::kBodyTimeout,
                                "request: body not received in time"};
        co_return FailStream(timeout);
      }
      SetDeadline(body_deadline_);
      const bool more = co_await ReadMore(ec, true);
      deadline_ = Clock::time_point::max();  // the handler's own waits are not body time
      if (!more) {
        if (timed_out_) {
          const Rejection timeout{408, RejectReason::kBodyTimeout,
                                  "request: body not received in time"};
          co_return FailStream(timeout);
        }
        stream_error_ = Error(ErrorCode::kUnavailable,
                              "body: connection closed by client (" + ec.message() + ")");
        co_return tl::unexpected(*stream_error_);
      }
    }
  }

  const RequestParser& parser() const { return parser_; }

 private:
  tl::unexpected<Error> FailStream(const Rejection& r) {
    stream_rejection_ = r;
    const ErrorCode code = r.reason == RejectReason::kBodyTooLarge  ? ErrorCode::kTooLarge
                           : r.reason == RejectReason::kBodyTimeout ? ErrorCode::kTimeout
                                                                    : ErrorCode::kInvalidArgument;
    stream_error_ = Error(code, r.message);
    return tl::unexpected(*stream_error_);
  }

  std::string_view Buffered() const {
    return {static_cast<const char*>(buf_.data().data()), buf_.size()};
  }

  void SetDeadline(Clock::time_point tp) {
    deadline_ = tp;
    if (tp < timer_.expiry()) timer_.cancel();  // wake the watchdog to re-arm earlier
  }

  static asio::awaitable<void> Watchdog(std::shared_ptr<Connection> self) {
    while (!self->closed_) {
      self->timer_.expires_at(self->deadline_);
      error_code ec;
      co_await self->timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (self->closed_) break;
      if (self->deadline_ <= Clock::now()) {
        self->timed_out_ = true;
        self->deadline_ = Clock::time_point::max();
        self->sock_.cancel(ec);
      }
    }
  }

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self) {
    co_await self->Serve();
    self->Close();
  }

  void Close() {
    closed_ = true;
    error_code ec;
    sock_.close(ec);
    timer_.cancel();
  }

  // Reads more bytes into buf_. Returns false on error/EOF/timeout.
  // The tracked read (tracked_read.h) skips the recv that would fail with
  // EAGAIN right after a response, without the epoll_ctl of async_wait.
  // `continuing`: the bytes continue a message already begun (or a linger).
  asio::awaitable<bool> ReadMore(error_code& ec, bool continuing) {
    std::size_t n =
        co_await AsyncReadSomeTracked(sock_, read_cache_, buf_.prepare(kReadChunk), continuing,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    buf_.commit(n);
    co_return true;
  }

  // Writes out_ fully; the fast path is one non-blocking write with no timer.
  asio::awaitable<bool> Flush() {
    if (out_.empty()) co_return true;
    error_code ec;
    std::size_t n = sock_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    if (n < out_.size()) {
      state_ = ConnState::kWriting;
      SetDeadline(Clock::now() + opts_->write_timeout);
      co_await asio::async_write(sock_, asio::buffer(out_.data() + n, out_.size() - n),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
    }
    out_.clear();
    co_return true;
  }

  // Answers a rejected request, then closes gracefully: the client may still
  // be sending (e.g. a body we refused), and closing with unread data would
  // reset the connection and lose our answer.
  asio::awaitable<void> RejectAndClose(const Rejection& r) {
    worker_->Reject(r.reason);
    Response resp = Response::Error(r.status, r.message);
    co_await RespondAndClose(resp);
  }

  asio::awaitable<void> RespondAndClose(const Response& resp) {
    state_ = ConnState::kClosing;
    timed_out_ = false;
    wire::AppendResponse(out_, resp, false, false, 11);
    co_await FlushAndLinger();
  }

  // Writes out_, then half-closes and reads (discarding) for a while: the
  // client may still be sending bytes we will not read.
  asio::awaitable<void> FlushAndLinger() {
    state_ = ConnState::kClosing;
    timed_out_ = false;
    if (!co_await Flush()) co_return;
    error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    SetDeadline(Clock::now() + kLingerTime);
    std::size_t drained = 0;
    while (drained < 1024 * 1024UL) {
      buf_.consume(buf_.size());
      if (!co_await ReadMore(ec, true)) break;
      drained += buf_.size();
    }
  }

  asio::awaitable<void> Serve() {
    error_code ec;
    for (;;) {
      parser_.Reset();
      state_ = ConnState::kIdle;
      SetDeadline(Clock::now() + opts_->idle_timeout);

      // ---- head
      std::size_t head_len = 0;
      for (;;) {
        if (buf_.size() > 0) {
          auto st = parser_.ParseHead(Buffered(), &head_len);
          if (st == RequestParser::Status::kDone) break;
          if (st == RequestParser::Status::kRejected) {
            co_await RejectAndClose(parser_.rejection());
            co_return;
          }
          if (state_ == ConnState::kIdle) {
            state_ = ConnState::kReadingHead;
            SetDeadline(Clock::now() + opts_->header_timeout);
          }
        }
        if (draining_->load(std::memory_order_relaxed) && state_ == ConnState::kIdle) co_return;
        // A partly buffered head continues; an empty buffer starts a request.
        if (!co_await ReadMore(ec, buf_.size() > 0)) {
          if (timed_out_ && state_ == ConnState::kReadingHead) {
            // A named object, not a braced temporary: GCC 12 destroys temporaries
            // of a co_await full-expression twice (double free).
            const Rejection timeout{408, RejectReason::kHeaderTimeout,
                                    "request: header not received in time"};
            co_await RejectAndClose(timeout);
          }
          co_return;
        }
      }
      buf_.consume(head_len);
      state_ = ConnState::kReadingBody;
      Request& req = parser_.request();
      req.remote = remote_;

      if (opts_->head_check) {
        if (auto early = opts_->head_check(req)) {
          if (!parser_.body_done()) {
            co_await RespondAndClose(*early);
            co_return;
          }
          bool keep =
              req.keep_alive && !draining_->load(std::memory_order_relaxed) && !WantsClose(*early);
          wire::AppendResponse(out_, *early, req.verb == boost::beast::http::verb::head, keep,
                               req.version);
          if (!co_await Flush() || !keep) co_return;
          continue;
        }
      }
      if (auto r = parser_.CheckDeclaredLength()) {
        co_await RejectAndClose(*r);
        co_return;
      }
      const bool stream = !parser_.body_done() && opts_->stream_body && opts_->stream_body(req);
      if (stream) {
        if (parser_.expect_continue() && buf_.size() == 0) {
          out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        }
        // Earlier pipelined answers must not wait for this handler.
        if (!co_await Flush()) co_return;
        body_deadline_ = Clock::now() + opts_->body_timeout;
        piece_.clear();
        stream_.bytes_read_ = 0;
        stream_error_.reset();
        stream_rejection_.reset();
        parser_.SetBodyOutput(&piece_);
        req.body_stream = &stream_;
        streaming_ = true;
      } else if (!parser_.body_done()) {
        if (parser_.expect_continue() && buf_.size() == 0) {
          out_.append("HTTP/1.1 100 Continue\r\n\r\n");
          if (!co_await Flush()) co_return;
        }
        bool deadline_set = false;
        for (;;) {
          std::size_t used = 0;
          auto st = parser_.ParseBody(Buffered(), &used);
          buf_.consume(used);
          if (st == RequestParser::Status::kDone) break;
          if (st == RequestParser::Status::kRejected) {
            co_await RejectAndClose(parser_.rejection());
            co_return;
          }
          if (!deadline_set) {
            SetDeadline(Clock::now() + opts_->body_timeout);
            deadline_set = true;
          }
          if (!co_await ReadMore(ec, true)) {
            if (timed_out_) {
              const Rejection timeout{408, RejectReason::kBodyTimeout,
                                      "request: body not received in time"};
              co_await RejectAndClose(timeout);
            }
            co_return;
          }
        }
      }

      // ---- handler
      state_ = ConnState::kHandling;
      deadline_ = Clock::time_point::max();  // later than any armed expiry: no wake-up needed
      worker_->requests.fetch_add(1, std::memory_order_relaxed);
      worker_->in_flight.fetch_add(1, std::memory_order_relaxed);
      bool head_only = req.verb == boost::beast::http::verb::head;
      bool client_keep = req.keep_alive;
      unsigned version = req.version;
      Response resp;
      bool failed = false;
      try {
        resp = co_await (*handler_)(req);
      } catch (...) {
        failed = true;
      }
      worker_->in_flight.fetch_sub(1, std::memory_order_relaxed);
      bool body_unread = false;
      if (stream) {
        streaming_ = false;
        parser_.SetBodyOutput(nullptr);
        deadline_ = Clock::time_point::max();
        if (closed_) co_return;
        if (stream_rejection_) {
          // As in buffered mode: the client gets 400/413/408, whatever the
          // handler made of the failed body.
          const Rejection rejection = *stream_rejection_;
          co_await RejectAndClose(rejection);
          co_return;
        }
        if (stream_error_) co_return;  // the client went away mid-body
        body_unread = !parser_.body_done();
      }
      if (failed) resp = Response::Error(500, "internal: handler failed");
      if (closed_) co_return;  // force-closed while the handler ran

      bool keep = client_keep && !failed && !draining_->load(std::memory_order_relaxed) &&
                  !WantsClose(resp) && !body_unread;
      const bool no_body =
          (resp.status >= 100 && resp.status < 200) || resp.status == 204 || resp.status == 304;
      if (resp.status == 101 && resp.stream && !failed && !body_unread) {
        // Upgrade: the 101 head, then the connection belongs to the tunnel.
        wire::AppendUpgradeHead(out_, resp);
        if (!co_await Flush()) co_return;
        state_ = ConnState::kHandling;
        deadline_ = Clock::time_point::max();  // the tunnel has its own idle timeout
        const std::string early(Buffered());
        buf_.consume(buf_.size());
        co_await resp.stream->Tunnel(sock_, early);
        co_return;
      }
      if (resp.stream && !head_only && !no_body && !failed) {
        if (!co_await WriteStreamed(resp, keep, version)) {
          Abort();  // the body could not be completed: never let it look complete
          co_return;
        }
        if (body_unread) {
          co_await FlushAndLinger();
          co_return;
        }
        if (!keep) {
          sock_.shutdown(tcp::socket::shutdown_send, ec);
          co_return;
        }
        continue;
      }
      resp.stream.reset();
      wire::AppendResponse(out_, resp, head_only, keep, version);
      if (body_unread) {
        co_await FlushAndLinger();  // unread body bytes are still coming
        co_return;
      }
      // Pipelining: when the next request is already buffered, answer it
      // before writing, so both responses leave in one write.
      if (keep && out_.size() < kMaxPipelinedOutput && wire::HasCompleteHead(Buffered())) continue;
      if (!co_await Flush()) co_return;
      if (!keep) {
        sock_.shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
    }
  }

  // A streamed response (Response::stream): the head and the handler's
  // first bytes, then each piece as the source yields it, framed by the
  // declared length, chunked (HTTP/1.1) or by the close (HTTP/1.0). The
  // next piece is read only once the previous one is written (the client's
  // pace bounds the source's). False when it could not be completed (the
  // source failed, the client went away, more or fewer bytes than
  // declared): the caller aborts the connection.
  asio::awaitable<bool> WriteStreamed(Response& resp, bool& keep, unsigned version) {
    using wire::BodyFraming;
    const BodyFraming framing = resp.content_length ? BodyFraming::kLength
                                : version >= 11     ? BodyFraming::kChunked
                                                    : BodyFraming::kClose;
    if (framing == BodyFraming::kClose) keep = false;
    wire::AppendStreamedHead(out_, resp, framing, keep, version);
    const std::uint64_t declared = resp.content_length.value_or(0);
    std::uint64_t sent = 0;
    std::string_view piece = resp.body;
    for (;;) {
      if (!piece.empty()) {
        if (framing == BodyFraming::kLength && piece.size() > declared - sent) co_return false;
        sent += piece.size();
        if (!co_await WritePiece(piece, framing == BodyFraming::kChunked)) co_return false;
      } else if (!out_.empty() && !co_await Flush()) {
        co_return false;  // the head goes out before the first wait for the source
      }
      state_ = ConnState::kHandling;
      deadline_ = Clock::time_point::max();  // the source's own timeouts bound the wait
      auto next = co_await resp.stream->Read();
      if (closed_ || !next) co_return false;
      if (next->empty()) break;
      piece = *next;
    }
    if (framing == BodyFraming::kLength && sent != declared) co_return false;
    resp.stream.reset();  // done: the source releases what it holds (e.g. a pooled connection)
    if (framing == BodyFraming::kChunked) out_.append("0\r\n\r\n");
    co_return co_await Flush();
  }

  // Writes out_ (pending head) and one body piece (chunk-framed when
  // `chunked`) without copying the piece; a partial write waits with the
  // write timeout.
  asio::awaitable<bool> WritePiece(std::string_view piece, bool chunked) {
    char size_line[24];
    std::size_t size_len = 0;
    if (chunked) {
      size_len = static_cast<std::size_t>(
          std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size()));
    }
    const std::array<asio::const_buffer, 4> all = {
        asio::buffer(out_), asio::buffer(size_line, size_len),
        asio::buffer(piece.data(), piece.size()), asio::buffer("\r\n", chunked ? 2 : 0)};
    const std::size_t total = asio::buffer_size(all);
    error_code ec;
    std::size_t n = sock_.write_some(all, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    if (ec) n = 0;
    if (n < total) {
      std::array<asio::const_buffer, 4> rest;
      std::size_t k = 0, skip = n;
      for (const auto& b : all) {
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        rest[k++] = b + skip;
        skip = 0;
      }
      state_ = ConnState::kWriting;
      SetDeadline(Clock::now() + opts_->write_timeout);
      co_await asio::async_write(sock_, rest, asio::redirect_error(asio::use_awaitable, ec));
      deadline_ = Clock::time_point::max();
      if (ec) co_return false;
    }
    out_.clear();
    co_return true;
  }

  // Ends the connection with a reset, so a client reading a close-delimited
  // body sees an error, not a clean end (Run() closes the socket).
  void Abort() {
    error_code ec;
    sock_.set_option(asio::socket_base::linger(true, 0), ec);
  }

  static bool WantsClose(const Response& r) {
    auto c = r.headers.Get("connection");
    return c && IEquals(*c, "close");
  }

  tcp::socket sock_;
  TrackedReadCache read_cache_;
  asio::steady_timer timer_;
  Server::Worker* worker_;
  const ServerOptions* opts_;
  const Handler* handler_;
  const std::atomic<bool>* draining_;
  std::atomic<std::size_t>* total_active_;
  RequestParser parser_;
  StreamedBody stream_;
  std::string piece_;  // the streamed body piece handed out last
  Clock::time_point body_deadline_ = Clock::time_point::max();
  std::optional<Error> stream_error_;
  std::optional<Rejection> stream_rejection_;
  bool streaming_ = false;  // a handler with a streamed body is running
  tcp::endpoint remote_;
  boost::beast::flat_buffer buf_;
  std::string out_;
  Clock::time_point deadline_ = Clock::time_point::max();
  ConnState state_ = ConnState::kIdle;
  bool timed_out_ = false;
  bool closed_ = false;
  bool drain_closed_ = false;
};

asio::awaitable<Result<std::string_view>> StreamedBody::Read() {
  return c_->ReadBodyPiece();  // lazy: runs when the caller co_awaits it
}

std::optional<std::uint64_t> StreamedBody::content_length() const {
  return c_->parser().content_length();
}

bool StreamedBody::done() const {
  return c_->parser().body_done();
}

}  // namespace

Server::Server(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  if (options_.threads == 0) options_.threads = std::max(1u, std::thread::hardware_concurrency());
}

Server::~Server() {
  if (started_) Drain(std::chrono::seconds(0));
}

namespace {

asio::awaitable<void> AcceptLoop(Server::Worker* w, const ServerOptions* opts,
                                 const Handler* handler, const std::atomic<bool>* draining,
                                 std::atomic<std::size_t>* total_active) {
  for (;;) {
    error_code ec;
    tcp::socket sock =
        co_await w->acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !w->acceptor->is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(w->io, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (draining->load(std::memory_order_relaxed)) {
      sock.close(ec);
      continue;
    }
    if (total_active->load(std::memory_order_relaxed) >= opts->max_connections) {
      w->Reject(RejectReason::kMaxConnections);
      sock.close(ec);
      continue;
    }
    total_active->fetch_add(1, std::memory_order_acq_rel);
    w->accepted.fetch_add(1, std::memory_order_relaxed);
    w->active.fetch_add(1, std::memory_order_relaxed);
    std::make_shared<Connection>(std::move(sock), w, opts, handler, draining, total_active)
        ->Start();
  }
}

Result<tcp::acceptor> Listen(asio::io_context& io, const tcp::endpoint& ep, int backlog) {
  tcp::acceptor a(io);
  error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(backlog, ec);
  if (ec) {
    return MakeError(ErrorCode::kUnavailable, "listen " + ep.address().to_string() + ":" +
                                                  std::to_string(ep.port()) + ": " + ec.message());
  }
  return a;
}

}  // namespace

Result<std::uint16_t> Server::Start() {
  if (started_) return MakeError(ErrorCode::kInvalidArgument, "server: already started");
  error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "address: not an IP address: '" + options_.address + "'");
  }
  std::uint16_t port = options_.port;
  for (unsigned i = 0; i < options_.threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->server = this;
    auto a = Listen(w->io, tcp::endpoint(addr, port), options_.backlog);
    if (!a) {
      workers_.clear();
      return tl::unexpected(a.error());
    }
    w->acceptor.emplace(std::move(*a));
    if (port == 0) port = w->acceptor->local_endpoint().port();
    workers_.push_back(std::move(w));
  }
  port_ = port;
  auto* total = &total_active_;
  for (auto& w : workers_) {
    w->guard.emplace(w->io.get_executor());
    asio::co_spawn(w->io, AcceptLoop(w.get(), &options_, &handler_, &draining_, total),
                   asio::detached);
  }
  for (auto& w : workers_) {
    threads_.emplace_back([io = &w->io] { io->run(); });
  }
  started_ = true;
  return port_;
}

bool Server::Drain(std::chrono::steady_clock::duration deadline) {
  {
    std::lock_guard lk(mu_);
    if (!started_ || stopped_) return true;
  }
  auto until = Clock::now() + deadline;
  draining_.store(true);
  for (auto& w : workers_) {
    asio::post(w->io, [w = w.get()] {
      error_code ec;
      w->acceptor->close(ec);
      for (Connection* c : w->connections) c->CloseIfIdle();
    });
  }
  auto* total = &total_active_;
  bool clean = true;
  while (total->load(std::memory_order_acquire) > 0) {
    if (Clock::now() >= until) {
      clean = false;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!clean) {
    for (auto& w : workers_) {
      asio::post(w->io, [w = w.get()] {
        // Copy: ForceClose may end connections while we iterate.
        std::vector<Connection*> all(w->connections.begin(), w->connections.end());
        for (Connection* c : all) c->ForceClose();
      });
    }
    auto grace = Clock::now() + std::chrono::milliseconds(200);
    while (total->load(std::memory_order_acquire) > 0 && Clock::now() < grace) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (auto& w : workers_) {
    w->guard.reset();
    w->io.stop();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard lk(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  return clean;
}

void Server::Wait() {
  std::unique_lock lk(mu_);
  if (!started_) return;
  cv_.wait(lk, [&] { return stopped_; });
}

ServerCounters Server::Counters() const {
  ServerCounters c;
  for (const auto& w : workers_) {
    c.connections_accepted += w->accepted.load(std::memory_order_relaxed);
    c.connections_active += w->active.load(std::memory_order_relaxed);
    c.requests_total += w->requests.load(std::memory_order_relaxed);
    c.requests_in_flight += w->in_flight.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
      c.rejected[i] += w->rejected[i].load(std::memory_order_relaxed);
    }
  }
  return c;
}

std::vector<asio::any_io_executor> Server::Executors() const {
  std::vector<asio::any_io_executor> out;
  for (const auto& w : workers_) out.emplace_back(w->io.get_executor());
  return out;
}

}  // namespace ficus::http
