#include "service/upstream.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>

#include "service/response_head.h"

namespace ficus::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr auto kTimeoutTick = std::chrono::milliseconds(5);
constexpr std::size_t kReadChunk = 16UL * 1024;
constexpr std::size_t kMaxHeadBytes = 64UL * 1024;
// Interim (1xx) answers skipped before a final one; more is a broken backend.
constexpr int kMaxInterims = 64;

const char* UpstreamErrorName(UpstreamErrorKind k) {
  switch (k) {
    case UpstreamErrorKind::kNone:
      return "none";
    case UpstreamErrorKind::kConnect:
      return "connect";
    case UpstreamErrorKind::kTimeout:
      return "timeout";
    case UpstreamErrorKind::kIo:
      return "io";
  }
  return "unknown";
}

namespace {

// Beast's response parser straight into UpstreamResponse: no basic_fields
// (one allocation per field) and no second copy of the header.
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  // One allocation per buffer for a typical response head, not one per doubling.
  explicit ResponseParser(UpstreamResponse* out) : out_(out) { out_->headers.reserve(16, 512); }

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    out_->status = static_cast<unsigned>(code);
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    switch (http::FramingRole(name)) {
      case http::FieldRole::kConnection:
        // Kept only when it names other fields (hop-by-hop too): the proxy
        // then strips those (StripResponseFraming).
        for (auto tok : bhttp::token_list{value}) {
          if (!beast::iequals(tok, "keep-alive") && !beast::iequals(tok, "close")) {
            out_->connection_lists_fields = true;
            out_->headers.AddParsed(name, value);
            break;
          }
        }
        return;
      case http::FieldRole::kEndToEnd:
        out_->headers.AddParsed(name, value);  // Beast rejects CR/LF in fields
        return;
      default:
        return;  // framing and hop-by-hop: consumed here, never forwarded
    }
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length && *length <= (1u << 20)) out_->body_.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    out_->body_.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    out_->body_.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  UpstreamResponse* out_;
};

}  // namespace

UpstreamPool::~UpstreamPool() {
  *alive_ = false;
}

std::unique_ptr<UpstreamPool::Conn> UpstreamPool::TakeIdle(const Key& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& v = it->second;
  if (v.empty()) return nullptr;
  // No liveness probe here (it would cost a syscall per request): a pooled
  // connection the backend closed meanwhile is detected by Exchange(), which
  // retries once on a new connection.
  auto c = std::move(v.back());
  v.pop_back();
  return c;
}

void UpstreamPool::GiveBack(const Key& key, std::unique_ptr<Conn> conn, uint32_t max_idle) {
  auto& v = idle_[key];
  if (v.size() >= max_idle) return;  // conn closes on destruction
  v.push_back(std::move(conn));
}

void UpstreamPool::CloseIdle() {
  idle_.clear();
}

std::size_t UpstreamPool::IdleCount() const {
  std::size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

void UpstreamPool::Arm(Conn* c, std::chrono::milliseconds timeout) {
  if (c->deadline == SteadyClock::time_point::max()) active_.push_back(c);
  c->deadline = SteadyClock::now() + timeout;
  c->timed_out = false;
  if (!watchdog_running_) {
    watchdog_running_ = true;
    if (!watchdog_timer_) watchdog_timer_ = std::make_unique<asio::steady_timer>(executor_);
    asio::co_spawn(executor_, Watchdog(), asio::detached);
  }
}

void UpstreamPool::Disarm(Conn* c) {
  if (c->deadline == SteadyClock::time_point::max()) return;
  c->deadline = SteadyClock::time_point::max();
  for (auto& p : active_) {
    if (p == c) {
      p = active_.back();
      active_.pop_back();
      break;
    }
  }
}

asio::awaitable<void> UpstreamPool::Watchdog() {
  auto alive = alive_;
  while (*alive && !active_.empty()) {
    watchdog_timer_->expires_after(kTimeoutTick);
    co_await watchdog_timer_->async_wait(kUse);
    if (!*alive) co_return;
    const auto now = SteadyClock::now();
    for (Conn* c : active_) {
      if (c->deadline <= now && !c->timed_out) {
        c->timed_out = true;
        boost::system::error_code ec;
        c->socket.cancel(ec);
      }
    }
  }
  if (*alive) watchdog_running_ = false;
}

// The fast path's answer: reads the rest of the body (the head is in the
// buffer), then hands the connection back like the Beast path.
asio::awaitable<UpstreamPool::ReadOutcome> UpstreamPool::FinishSimpleResponse(
    Conn& conn, UpstreamResult& result, const SimpleResponseHead& h) {
  auto& buf = conn.buffer;
  const std::size_t total = h.head_bytes + static_cast<std::size_t>(h.content_length);
  while (buf.size() < total) {
    auto [rec, rn] = co_await http::AsyncReadSomeTracked(
        conn.socket, conn.read_cache, buf.prepare(std::max(kReadChunk, total - buf.size())), true,
        kUse);
    buf.commit(rn);
    if (rec) {
      result.response.headers.clear();
      result.error = conn.timed_out ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
      result.detail = "read: " + (conn.timed_out ? std::string("timeout") : rec.message());
      co_return ReadOutcome::kFailed;
    }
  }
  co_return CompleteSimpleResponse(conn, result, h);
}

UpstreamPool::ReadOutcome UpstreamPool::CompleteSimpleResponse(Conn& conn, UpstreamResult& result,
                                                               const SimpleResponseHead& h) {
  auto& buf = conn.buffer;
  const char* data = static_cast<const char*>(buf.data().data());
  result.response.status = h.status;
  result.response.connection_lists_fields = h.connection_lists_fields;
  result.response.body_.assign(data + h.head_bytes, static_cast<std::size_t>(h.content_length));
  buf.consume(h.head_bytes + static_cast<std::size_t>(h.content_length));
  return h.keep_alive && buf.size() == 0 ? ReadOutcome::kKeep : ReadOutcome::kDone;
}

asio::awaitable<UpstreamPool::ReadOutcome> UpstreamPool::ReadResponse(Conn& conn,
                                                                      UpstreamResult& result,
                                                                      bool head_request,
                                                                      uint64_t max_response_bytes) {
  // One parser per answer head: an interim answer (1xx) is parsed, dropped,
  // and the next head is parsed by a fresh parser from the following bytes.
  std::optional<ResponseParser> fresh;
  auto start_parser = [&]() -> ResponseParser& {
    auto& p = fresh.emplace(&result.response);
    p.eager(true);
    p.body_limit(max_response_bytes);
    p.header_limit(kMaxHeadBytes);
    if (head_request) p.skip(true);
    return p;
  };
  ResponseParser* parser = &start_parser();
  int interims = 0;
  auto& buf = conn.buffer;
  bool got_bytes = buf.size() > 0;
  // The common answer (HTTP/1.1, one Content-Length) is parsed by the fast
  // path; anything else goes to Beast with the same bytes (response_head.h).
  bool try_fast = !head_request;
  beast::error_code perr;
  for (;;) {
    if (try_fast && buf.size() > 0) {
      SimpleResponseHead h;
      const std::string_view data(static_cast<const char*>(buf.data().data()), buf.size());
      const HeadParse st = ParseSimpleResponseHead(data, kMaxHeadBytes, h, result.response.headers);
      if (st == HeadParse::kOk && h.content_length <= max_response_bytes) {
        if (buf.size() >= h.head_bytes + h.content_length) {
          co_return CompleteSimpleResponse(conn, result, h);  // usual: all in one read
        }
        co_return co_await FinishSimpleResponse(conn, result, h);
      }
      if (st != HeadParse::kNeedMore) {
        result.response.headers.clear();  // kOk over the body limit: Beast reports it
        try_fast = false;
      }
    }
    if (!try_fast && buf.size() > 0) {
      const std::size_t used = parser->put(buf.data(), perr);
      buf.consume(used);
      if (perr == bhttp::error::need_more) {
        perr = {};
      } else if (perr) {
        break;
      }
      if (parser->is_done()) {
        const unsigned st = result.response.status;
        if (st < 100 || st >= 200 || st == 101) break;
        // Interim (100, 102, 103, ...): never the answer. Dropped (as nginx
        // does); the final answer follows on the same connection.
        if (++interims > kMaxInterims) {
          result.error = UpstreamErrorKind::kIo;
          result.detail = "read: more than " + std::to_string(kMaxInterims) + " interim answers";
          co_return ReadOutcome::kFailed;
        }
        result.response = UpstreamResponse{};
        parser = &start_parser();
        try_fast = !head_request;
        continue;
      }
      if (used > 0 && buf.size() > 0) continue;
    }
    // Tracked: no EAGAIN recv right after the request went out; a later read
    // of the same answer continues it (pending EOF is seen at once).
    auto [rec, rn] = co_await http::AsyncReadSomeTracked(conn.socket, conn.read_cache,
                                                         buf.prepare(kReadChunk), got_bytes, kUse);
    buf.commit(rn);
    if (rn > 0) got_bytes = true;
    if (rec == asio::error::eof && parser->got_some()) {
      parser->put_eof(perr);
      if (!perr && parser->is_done()) break;
    }
    if (rec) {
      if (result.reused && !got_bytes && !conn.timed_out) break;  // stale: retry
      result.error = conn.timed_out ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
      result.detail = "read: " + (conn.timed_out ? std::string("timeout") : rec.message());
      co_return ReadOutcome::kFailed;
    }
  }
  if (!parser->is_done() && !perr) co_return ReadOutcome::kStale;
  if (perr) {
    result.error = UpstreamErrorKind::kIo;
    result.detail = "read: " + perr.message();
    co_return ReadOutcome::kFailed;
  }
  if (result.response.status == 101) {
    // Switching protocols although no upgrade was forwarded: not an HTTP
    // answer the proxy can relay; the connection is never reused.
    result.error = UpstreamErrorKind::kIo;
    result.detail = "read: unexpected 101 Switching Protocols";
    co_return ReadOutcome::kFailed;
  }
  // Pooled only when the final answer was read to its framed end and no
  // byte beyond it arrived: nothing of it can reach the next exchange.
  const bool keep = parser->keep_alive() && !parser->need_eof();
  co_return keep&& buf.size() == 0 ? ReadOutcome::kKeep : ReadOutcome::kDone;
}

asio::awaitable<UpstreamResult> UpstreamPool::Exchange(const UpstreamTarget& target,
                                                       std::string_view head, std::string_view body,
                                                       bool head_request,
                                                       uint64_t max_response_bytes,
                                                       uint32_t response_timeout_ms,
                                                       const std::function<void()>* on_sent) {
  const Key& key = target.key;
  const auto response_timeout = std::chrono::milliseconds(
      response_timeout_ms ? response_timeout_ms : target.response_timeout_ms);
  bool sent_notified = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    UpstreamResult result;
    auto conn = attempt == 0 ? TakeIdle(key) : nullptr;
    result.reused = conn != nullptr;
    // Disarms on every exit path (the Conn may be destroyed right after).
    struct Guard {
      UpstreamPool* pool;
      Conn* c;
      ~Guard() {
        if (c) pool->Disarm(c);
      }
    } guard{this, nullptr};
    if (!conn) {
      conn = std::make_unique<Conn>(executor_);
      guard.c = conn.get();
      Arm(conn.get(), std::chrono::milliseconds(target.connect_timeout_ms));
      auto [ec] = co_await conn->socket.async_connect(target.endpoint, kUse);
      if (ec) {
        result.error = UpstreamErrorKind::kConnect;
        result.detail = conn->timed_out ? "connect timeout" : ec.message();
        co_return result;
      }
      boost::system::error_code ignored;
      conn->socket.set_option(tcp::no_delay(true), ignored);
      conn->socket.non_blocking(true, ignored);  // write_some below must not block
    }
    guard.c = conn.get();
    Arm(conn.get(), response_timeout);
    // One non-blocking send first: a request head fits the socket buffer,
    // and a write that completes at once then costs no asynchronous
    // operation (no op, no posted completion, no coroutine resumption).
    boost::system::error_code wec;
    std::size_t sent = conn->socket.write_some(
        std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)}, wec);
    if (wec == asio::error::would_block || wec == asio::error::try_again) wec = {};
    if (!wec && sent < head.size() + body.size()) {
      const std::size_t in_head = std::min(sent, head.size());
      const std::array<asio::const_buffer, 2> rest = {asio::buffer(head.substr(in_head)),
                                                      asio::buffer(body.substr(sent - in_head))};
      auto [ec, n] = co_await asio::async_write(conn->socket, rest, kUse);
      (void)n;
      wec = ec;
    }
    if (wec) {
      if (result.reused && !conn->timed_out) continue;  // stale keep-alive connection
      result.error = conn->timed_out ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
      result.detail = "write: " + (conn->timed_out ? std::string("timeout") : wec.message());
      co_return result;
    }
    if (on_sent && !sent_notified) {
      sent_notified = true;
      (*on_sent)();
    }
    const auto read = co_await ReadResponse(*conn, result, head_request, max_response_bytes);
    if (read == ReadOutcome::kStale) continue;  // reused connection closed before any byte
    if (read == ReadOutcome::kFailed) co_return result;
    guard.c = nullptr;
    Disarm(conn.get());
    if (read == ReadOutcome::kKeep) GiveBack(key, std::move(conn), target.max_idle);
    co_return result;
  }
  UpstreamResult r;
  r.error = UpstreamErrorKind::kIo;
  r.detail = "connection closed by backend";
  co_return r;
}

asio::awaitable<UpstreamResult> UpstreamPool::ExchangeStreamed(const UpstreamTarget& target,
                                                               std::string_view head,
                                                               http::BodyStream& body, bool chunked,
                                                               bool head_request,
                                                               uint64_t max_response_bytes) {
  const auto response_timeout = std::chrono::milliseconds(target.response_timeout_ms);
  UpstreamResult result;
  auto client_failed = [&](const Error& e) {
    result.error = UpstreamErrorKind::kIo;
    result.client_body_error = true;
    result.detail = "client body: " + e.message;
  };
  // The first piece before anything is sent: a body that fails at once
  // (e.g. a bad first chunk size) never reaches the backend.
  auto piece = co_await body.Read();
  if (!piece) {
    client_failed(piece.error());
    co_return result;
  }
  // A new connection: a body read from the client cannot be sent twice, so
  // the stale-keep-alive retry of Exchange() is not possible here.
  auto conn = std::make_unique<Conn>(executor_);
  struct Guard {
    UpstreamPool* pool;
    Conn* c;
    ~Guard() {
      if (c) pool->Disarm(c);
    }
  } guard{this, conn.get()};
  Arm(conn.get(), std::chrono::milliseconds(target.connect_timeout_ms));
  auto [cec] = co_await conn->socket.async_connect(target.endpoint, kUse);
  if (cec) {
    result.error = UpstreamErrorKind::kConnect;
    result.detail = conn->timed_out ? "connect timeout" : cec.message();
    co_return result;
  }
  boost::system::error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  auto fail_write = [&](const boost::system::error_code& ec) {
    result.error = conn->timed_out ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
    result.detail = "write: " + (conn->timed_out ? std::string("timeout") : ec.message());
  };
  Arm(conn.get(), response_timeout);
  auto [hec, hn] =
      co_await asio::async_write(conn->socket, asio::buffer(head.data(), head.size()), kUse);
  (void)hn;
  if (hec) {
    fail_write(hec);
    co_return result;
  }
  static constexpr std::string_view kCrLf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  for (;;) {
    Arm(conn.get(), response_timeout);
    boost::system::error_code wec;
    if (piece->empty()) {
      if (chunked) {
        auto [ec, n] = co_await asio::async_write(
            conn->socket, asio::buffer(kLastChunk.data(), kLastChunk.size()), kUse);
        (void)n;
        wec = ec;
      }
      if (wec) {
        fail_write(wec);
        co_return result;
      }
      break;
    }
    char size_line[24];
    const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece->size());
    const std::array<asio::const_buffer, 3> framed = {
        asio::buffer(size_line, static_cast<std::size_t>(len)),
        asio::buffer(piece->data(), piece->size()), asio::buffer(kCrLf.data(), kCrLf.size())};
    if (chunked) {
      auto [ec, n] = co_await asio::async_write(conn->socket, framed, kUse);
      (void)n;
      wec = ec;
    } else {
      auto [ec, n] = co_await asio::async_write(conn->socket,
                                                asio::buffer(piece->data(), piece->size()), kUse);
      (void)n;
      wec = ec;
    }
    if (wec) {
      fail_write(wec);
      co_return result;
    }
    // Waiting for the client is bounded by the server's body timeout, not
    // by this backend's response timeout.
    Disarm(conn.get());
    piece = co_await body.Read();
    if (!piece) {
      client_failed(piece.error());
      co_return result;  // the connection is dropped: the backend sees a cut request
    }
  }
  const auto read = co_await ReadResponse(*conn, result, head_request, max_response_bytes);
  if (read == ReadOutcome::kStale) {
    result.error = UpstreamErrorKind::kIo;
    result.detail = "read: connection closed by backend";
    co_return result;
  }
  if (read == ReadOutcome::kFailed) co_return result;
  guard.c = nullptr;
  Disarm(conn.get());
  if (read == ReadOutcome::kKeep) GiveBack(target.key, std::move(conn), target.max_idle);
  co_return result;
}

}  // namespace ficus::proxy
