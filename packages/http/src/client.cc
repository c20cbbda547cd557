#include "ficus/http/client.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <tuple>

#include "response_head.h"

namespace ficus::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
// || on awaitables (tunnels); the check does not see a using-declared operator in use:
// NOLINTNEXTLINE(misc-unused-using-decls)
using boost::asio::experimental::awaitable_operators::operator||;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
constexpr auto kTimeoutTick = std::chrono::milliseconds(5);
constexpr std::size_t kReadChunk = 16UL * 1024;
constexpr std::size_t kMaxHeadBytes = 64UL * 1024;
// Interim (1xx) answers skipped before a final one; more is a broken backend.
constexpr int kMaxInterims = 64;

const char* ClientErrorName(ClientErrorKind k) {
  switch (k) {
    case ClientErrorKind::kNone:
      return "none";
    case ClientErrorKind::kConnect:
      return "connect";
    case ClientErrorKind::kTimeout:
      return "timeout";
    case ClientErrorKind::kIo:
      return "io";
  }
  return "unknown";
}

Result<ClientTarget> MakeClientTarget(std::string name, const std::string& host, uint16_t port) {
  asio::ip::address addr;
  boost::system::error_code ec;
  if (host == "localhost") {
    addr = asio::ip::make_address("127.0.0.1");
  } else {
    addr = asio::ip::make_address(host, ec);
  }
  if (ec) {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    ec = {};
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "cannot resolve host '" + host + "'");
    }
    addr = results.begin()->endpoint().address();
  }
  ClientTarget t;
  t.endpoint = tcp::endpoint(addr, port);
  t.key = name + "@" + addr.to_string() + ":" + std::to_string(port);
  t.host = host + ":" + std::to_string(port);
  t.name = std::move(name);
  return t;
}

namespace {

// Beast's response parser straight into ClientResponse: no basic_fields
// (one allocation per field) and no second copy of the header.
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  // One allocation per buffer for a typical response head, not one per doubling.
  explicit ResponseParser(ClientResponse* out) : out_(out), body_(&out->body_) {}
  // Where body bytes go from now on (a streamed body's piece buffer).
  void set_body_sink(std::string* sink) { body_ = sink; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view reason, int, beast::error_code&) override {
    out_->status = static_cast<unsigned>(code);
    out_->reason.assign(reason.data(), reason.size());
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    // Trailer fields of a chunked body come here too: never merged into the
    // header section (RFC 9110 6.5.1); dropped, as nginx does.
    if (header_done_) return;
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
      case http::FieldRole::kHopByHop:
        // Upgrade is hop-by-hop, but a 101 must say what it switched to.
        if (beast::iequals(name, "upgrade")) out_->upgrade.assign(value.data(), value.size());
        return;
      default:
        return;  // framing and hop-by-hop: consumed here, never forwarded
    }
  }
  void on_header_impl(beast::error_code&) override { header_done_ = true; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length && *length <= (1u << 20)) body_->reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    body_->append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    body_->append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  ClientResponse* out_;
  std::string* body_;
  bool header_done_ = false;
};

// Lenient where the real world is (what a backend sends; clients stay
// strict): the answer head at the start of `buf` is made what Beast parses.
//  - Lines ending in a bare LF end in CRLF (nginx accepts LF-only lines
//    from an upstream, RFC 9112 2.2 allows a recipient to).
//  - "HTTP/1.1 422" (no SP after the code: what nginx + php-fpm send for a
//    status PHP has no phrase for) gets the SP, an empty reason.
// False while the head (through its empty line) is not all in `buf`: the
// parser then waits for more. A head past kMaxHeadBytes is left to the
// parser's own limit.
bool NormalizeHead(beast::flat_buffer& buf) {
  const std::string_view data(static_cast<const char*>(buf.data().data()), buf.size());
  bool bare_lf = false;
  std::size_t p = 0;
  std::size_t status_end = std::string_view::npos;  // the status line's length
  for (;;) {
    const std::size_t nl = data.find('\n', p);
    if (nl == std::string_view::npos) return data.size() > kMaxHeadBytes;
    const bool cr = nl > p && data[nl - 1] == '\r';
    bare_lf = bare_lf || !cr;
    const std::size_t len = nl - p - (cr ? 1 : 0);
    if (status_end == std::string_view::npos) {
      status_end = len;
    } else if (len == 0) {
      p = nl + 1;
      break;
    }
    p = nl + 1;
  }
  auto digit = [&](std::size_t i) { return data[i] >= '0' && data[i] <= '9'; };
  // "HTTP/d.d SP DDD" and nothing after the code.
  const bool add_sp = status_end == 12 && data.substr(0, 5) == "HTTP/" && data[8] == ' ' &&
                      digit(9) && digit(10) && digit(11);
  if (!bare_lf && !add_sp) return true;
  std::string head;
  head.reserve(p + 64);
  for (std::size_t q = 0; q < p;) {
    const std::size_t nl = data.find('\n', q);
    const std::size_t len = nl - q - (nl > q && data[nl - 1] == '\r' ? 1 : 0);
    head.append(data.substr(q, len));
    if (q == 0 && add_sp) head.push_back(' ');
    head.append("\r\n");
    q = nl + 1;
  }
  std::string rest(data.substr(p));
  buf.consume(buf.size());
  buf.commit(boost::asio::buffer_copy(buf.prepare(head.size()), boost::asio::buffer(head)));
  buf.commit(boost::asio::buffer_copy(buf.prepare(rest.size()), boost::asio::buffer(rest)));
  return true;
}

}  // namespace

Client::~Client() {
  *alive_ = false;
}

std::unique_ptr<Client::Conn> Client::TakeIdle(const Key& key) {
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

void Client::GiveBack(const Key& key, std::unique_ptr<Conn> conn, uint32_t max_idle) {
  auto& v = idle_[key];
  if (v.size() >= max_idle) return;  // conn closes on destruction
  v.push_back(std::move(conn));
}

void Client::CloseIdle() {
  idle_.clear();
}

std::size_t Client::IdleCount() const {
  std::size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

void Client::Arm(Conn* c, std::chrono::milliseconds timeout) {
  if (c->deadline == MonoTime::max()) active_.push_back(c);
  c->deadline = SystemClock::MonoNow() + timeout;
  c->timed_out = false;
  if (!watchdog_running_) {
    watchdog_running_ = true;
    if (!watchdog_timer_) watchdog_timer_ = std::make_unique<asio::steady_timer>(executor_);
    asio::co_spawn(executor_, Watchdog(), asio::detached);
  }
}

void Client::Disarm(Conn* c) {
  if (c->deadline == MonoTime::max()) return;
  c->deadline = MonoTime::max();
  for (auto& p : active_) {
    if (p == c) {
      p = active_.back();
      active_.pop_back();
      break;
    }
  }
}

asio::awaitable<void> Client::Watchdog() {
  auto alive = alive_;
  while (*alive && !active_.empty()) {
    watchdog_timer_->expires_after(kTimeoutTick);
    co_await watchdog_timer_->async_wait(kUse);
    if (!*alive) co_return;
    const auto now = SystemClock::MonoNow();
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
asio::awaitable<Client::ReadOutcome> Client::FinishSimpleResponse(Conn& conn, ClientResult& result,
                                                                  const SimpleResponseHead& h) {
  auto& buf = conn.buffer;
  const std::size_t total = h.head_bytes + static_cast<std::size_t>(h.content_length);
  while (buf.size() < total) {
    auto [rec, rn] = co_await http::AsyncReadSomeTracked(
        conn.socket, conn.read_cache, buf.prepare(std::max(kReadChunk, total - buf.size())), true,
        kUse);
    buf.commit(rn);
    if (rec) {
      result.response.headers.clear();
      result.error = conn.timed_out ? ClientErrorKind::kTimeout : ClientErrorKind::kIo;
      result.detail = "read: " + (conn.timed_out ? std::string("timeout") : rec.message());
      co_return ReadOutcome::kFailed;
    }
  }
  co_return CompleteSimpleResponse(conn, result, h);
}

Client::ReadOutcome Client::CompleteSimpleResponse(Conn& conn, ClientResult& result,
                                                   const SimpleResponseHead& h) {
  auto& buf = conn.buffer;
  const char* data = static_cast<const char*>(buf.data().data());
  result.response.status = h.status;
  result.response.reason.assign(data + SimpleResponseHead::kReasonPos, h.reason_len);
  result.response.content_length = h.content_length;
  result.response.connection_lists_fields = h.connection_lists_fields;
  result.response.body_.assign(data + h.head_bytes, static_cast<std::size_t>(h.content_length));
  buf.consume(h.head_bytes + static_cast<std::size_t>(h.content_length));
  return h.keep_alive && buf.size() == 0 ? ReadOutcome::kKeep : ReadOutcome::kDone;
}

struct Client::StreamSlot {
  std::unique_ptr<ResponseParser> parser;  // null: raw bytes by length (`remaining`)
  uint64_t remaining = 0;
  bool keep_alive = true;
};

asio::awaitable<Client::ReadOutcome> Client::ReadResponse(Conn& conn, ClientResult& result,
                                                          bool head_request,
                                                          uint64_t max_response_bytes,
                                                          StreamSlot* slot, bool upgrade) {
  // One parser per answer head, made when the fast path declines: an
  // interim answer (1xx) is parsed, dropped, and the next head is parsed by
  // a fresh parser from the following bytes.
  std::unique_ptr<ResponseParser> parser;
  auto start_parser = [&] {
    parser = std::make_unique<ResponseParser>(&result.response);
    parser->eager(true);
    if (slot) {
      parser->body_limit(boost::none);
    } else {
      parser->body_limit(max_response_bytes);
    }
    parser->header_limit(kMaxHeadBytes);
    if (head_request) parser->skip(true);
  };
  // One allocation per buffer for a typical response head, not one per doubling.
  result.response.headers.reserve(16, 512);
  bool head_checked = false;  // NormalizeHead() done for the head being parsed
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
      if (st == HeadParse::kOk && (slot || h.content_length <= max_response_bytes)) {
        if (buf.size() >= h.head_bytes + h.content_length) {
          co_return CompleteSimpleResponse(conn, result, h);  // usual: all in one read
        }
        if (!slot) co_return co_await FinishSimpleResponse(conn, result, h);
        // Streamed: what came with the head now, the rest raw by length.
        const char* d = static_cast<const char*>(buf.data().data());
        result.response.status = h.status;
        result.response.reason.assign(d + SimpleResponseHead::kReasonPos, h.reason_len);
        result.response.connection_lists_fields = h.connection_lists_fields;
        result.response.content_length = h.content_length;
        result.response.length_framed = true;
        result.response.body_.assign(d + h.head_bytes, buf.size() - h.head_bytes);
        slot->remaining = h.content_length - (buf.size() - h.head_bytes);
        slot->keep_alive = h.keep_alive;
        buf.consume(buf.size());
        co_return ReadOutcome::kStreaming;
      }
      if (st != HeadParse::kNeedMore) {
        result.response.headers.clear();  // kOk over the body limit: Beast reports it
        try_fast = false;
      }
    }
    if (!try_fast && buf.size() > 0 && (head_checked || (head_checked = NormalizeHead(buf)))) {
      if (!parser) start_parser();
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
          result.error = ClientErrorKind::kIo;
          result.detail = "read: more than " + std::to_string(kMaxInterims) + " interim answers";
          co_return ReadOutcome::kFailed;
        }
        result.response = ClientResponse{};
        parser.reset();
        head_checked = false;
        try_fast = !head_request;
        continue;
      }
      if (slot && parser->is_header_done() && result.response.status >= 200 &&
          result.response.status != 101) {
        // The head is complete and the body continues: streamed from here.
        if (auto cl = parser->content_length()) {
          result.response.content_length = *cl;
          result.response.length_framed = true;
        }
        slot->parser = std::move(parser);
        co_return ReadOutcome::kStreaming;
      }
      if (used > 0 && buf.size() > 0) continue;
    }
    // Tracked: no EAGAIN recv right after the request went out; a later read
    // of the same answer continues it (pending EOF is seen at once).
    auto [rec, rn] = co_await http::AsyncReadSomeTracked(conn.socket, conn.read_cache,
                                                         buf.prepare(kReadChunk), got_bytes, kUse);
    buf.commit(rn);
    if (rn > 0) got_bytes = true;
    if (rec == asio::error::eof && parser && parser->got_some()) {
      parser->put_eof(perr);
      if (!perr && parser->is_done()) break;
    }
    if (rec) {
      if (result.reused && !got_bytes && !conn.timed_out) break;  // stale: retry
      result.error = conn.timed_out ? ClientErrorKind::kTimeout : ClientErrorKind::kIo;
      result.detail = "read: " + (conn.timed_out ? std::string("timeout") : rec.message());
      co_return ReadOutcome::kFailed;
    }
  }
  if (!perr && (!parser || !parser->is_done())) co_return ReadOutcome::kStale;
  if (perr) {
    result.error = ClientErrorKind::kIo;
    result.detail = "read: " + perr.message();
    co_return ReadOutcome::kFailed;
  }
  if (result.response.status == 101 && upgrade) co_return ReadOutcome::kUpgraded;
  if (result.response.status == 101) {
    // Switching protocols although no upgrade was forwarded: not an HTTP
    // answer the proxy can relay; the connection is never reused.
    result.error = ClientErrorKind::kIo;
    result.detail = "read: unexpected 101 Switching Protocols";
    co_return ReadOutcome::kFailed;
  }
  if (auto cl = parser->content_length()) {
    result.response.content_length = *cl;
    result.response.length_framed = true;
  }
  // Pooled only when the final answer was read to its framed end and no
  // byte beyond it arrived: nothing of it can reach the next exchange.
  const bool keep = parser->keep_alive() && !parser->need_eof();
  co_return keep&& buf.size() == 0 ? ReadOutcome::kKeep : ReadOutcome::kDone;
}

// ---- streamed answer bodies

// The rest of a streamed answer: reads the backend connection only when
// asked (back-pressure), gives the connection back to its pool once the
// answer is read to its framed end, closes it when dropped early.
class ClientBody final : public http::ResponseBody {
 public:
  ClientBody(Client* pool, std::unique_ptr<Client::Conn> conn, Client::StreamSlot slot,
             const ClientTarget& target, MonoTime started)
      : pool_(pool),
        alive_(pool->alive_),
        conn_(std::move(conn)),
        slot_(std::move(slot)),
        key_(target.key),
        max_idle_(target.max_idle),
        idle_(std::chrono::milliseconds(target.idle_timeout_ms)),
        deadline_(target.total_timeout_ms
                      ? started + std::chrono::milliseconds(target.total_timeout_ms)
                      : MonoTime::max()) {
    if (slot_.parser) slot_.parser->set_body_sink(&piece_);
  }
  ~ClientBody() override {
    if (conn_ && *alive_) pool_->Disarm(conn_.get());
  }
  ClientBody(const ClientBody&) = delete;
  ClientBody& operator=(const ClientBody&) = delete;

  asio::awaitable<Result<std::string_view>> Read() override {
    piece_.clear();
    if (done_) co_return std::string_view();
    if (!conn_) co_return tl::unexpected(*error_);
    if (!slot_.parser) {
      if (slot_.remaining == 0) {
        Finish(slot_.keep_alive);
        co_return std::string_view();
      }
      piece_.resize(static_cast<std::size_t>(std::min<uint64_t>(kStreamChunk, slot_.remaining)));
      auto [ec, n] = co_await ReadSome(asio::buffer(piece_));
      if (ec) co_return Fail(ec);
      piece_.resize(n);
      slot_.remaining -= n;
      if (slot_.remaining == 0) Finish(slot_.keep_alive);  // pooled before the last write
      co_return std::string_view(piece_);
    }
    auto& parser = *slot_.parser;
    auto& buf = conn_->buffer;
    for (;;) {
      if (buf.size() > 0) {
        beast::error_code perr;
        const std::size_t used = parser.put(buf.data(), perr);
        buf.consume(used);
        if (perr == bhttp::error::need_more) perr = {};
        if (perr) co_return Fail(perr);
        if (parser.is_done()) {
          Finish(parser.keep_alive() && !parser.need_eof() && buf.size() == 0);
          co_return std::string_view(piece_);  // empty: the end
        }
        if (!piece_.empty()) co_return std::string_view(piece_);
        if (used > 0 && buf.size() > 0) continue;
      }
      auto [ec, n] = co_await ReadSome(buf.prepare(kStreamChunk));
      buf.commit(n);
      if (ec == asio::error::eof) {
        beast::error_code perr;
        parser.put_eof(perr);
        if (!perr && parser.is_done()) {
          Finish(false);
          co_return std::string_view(piece_);
        }
        co_return Fail(beast::error_code(asio::error::eof));
      }
      if (ec) co_return Fail(ec);
    }
  }

 private:
  static constexpr std::size_t kStreamChunk = 64UL * 1024;

  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> ReadSome(
      asio::mutable_buffer into) {
    const auto now = SystemClock::MonoNow();
    if (now >= deadline_) {
      conn_->timed_out = true;
      std::tuple<boost::system::error_code, std::size_t> expired(asio::error::timed_out, 0);
      co_return expired;
    }
    pool_->Arm(
        conn_.get(),
        std::min(idle_, std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now)));
    auto r =
        co_await http::AsyncReadSomeTracked(conn_->socket, conn_->read_cache, into, true, kUse);
    pool_->Disarm(conn_.get());
    co_return r;
  }

  void Finish(bool keep) {
    done_ = true;
    if (!conn_) return;
    pool_->Disarm(conn_.get());
    if (keep && *alive_) {
      pool_->GiveBack(key_, std::move(conn_), max_idle_);
    } else {
      conn_.reset();
    }
  }

  tl::unexpected<Error> Fail(const boost::system::error_code& ec) {
    const bool timeout = conn_->timed_out || ec == asio::error::timed_out;
    error_ = timeout ? Error(ErrorCode::kTimeout, "upstream body: stalled (idle timeout)")
                     : Error(ErrorCode::kUnavailable, "upstream body: " + ec.message());
    pool_->Disarm(conn_.get());
    conn_.reset();  // never reused: the answer was not read to its end
    return tl::unexpected(*error_);
  }

  Client* pool_;
  std::shared_ptr<bool> alive_;
  std::unique_ptr<Client::Conn> conn_;
  Client::StreamSlot slot_;
  std::string key_;
  uint32_t max_idle_;
  std::chrono::milliseconds idle_;
  MonoTime deadline_;
  std::string piece_;
  std::optional<Error> error_;
  bool done_ = false;
};

// The backend end of an upgrade tunnel: pipes bytes both ways between the
// client connection and the backend connection until either side closes or
// both are silent for the idle timeout.
class ClientTunnel final : public http::ResponseBody {
 public:
  ClientTunnel(std::unique_ptr<Client::Conn> conn, std::chrono::milliseconds idle,
               std::function<void(int)> on_change)
      : conn_(std::move(conn)), idle_(idle), on_change_(std::move(on_change)) {}
  asio::awaitable<Result<std::string_view>> Read() override {
    co_return MakeError(ErrorCode::kInternal, "a tunnel has no body");
  }
  asio::awaitable<void> Tunnel(tcp::socket& client, std::string_view client_bytes) override {
    if (on_change_) on_change_(+1);
    last_ = SystemClock::MonoNow();
    auto& up = conn_->socket;
    bool ok = true;
    if (!client_bytes.empty()) {  // sent by the client right after its request
      auto [ec, n] = co_await asio::async_write(up, asio::buffer(client_bytes), kUse);
      (void)n;
      ok = !ec;
    }
    if (ok && conn_->buffer.size() > 0) {  // sent by the backend right after its 101
      auto [ec, n] = co_await asio::async_write(client, conn_->buffer.data(), kUse);
      (void)n;
      conn_->buffer.consume(conn_->buffer.size());
      ok = !ec;
    }
    if (ok) {
      auto to_backend = Copy(client, up);
      auto to_client = Copy(up, client);
      auto watch = IdleWatch();
      auto either = std::move(to_backend) || std::move(to_client);
      auto any = std::move(either) || std::move(watch);
      co_await std::move(any);
    }
    boost::system::error_code ignored;
    up.close(ignored);
    if (on_change_) on_change_(-1);
  }

 private:
  asio::awaitable<void> Copy(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16384> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kUse);
      if (ec) break;
      last_ = SystemClock::MonoNow();
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kUse);
      (void)wn;
      if (wec) break;
      last_ = SystemClock::MonoNow();
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }
  asio::awaitable<void> IdleWatch() {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
      t.expires_at(last_ + idle_);
      auto [ec] = co_await t.async_wait(kUse);
      if (ec) co_return;  // cancelled: a copy ended
      if (SystemClock::MonoNow() >= last_ + idle_) co_return;
    }
  }

  std::unique_ptr<Client::Conn> conn_;
  std::chrono::milliseconds idle_;
  std::function<void(int)> on_change_;
  MonoTime last_;
};

void Client::StartStream(std::unique_ptr<Conn> conn, StreamSlot& slot, const ClientTarget& target,
                         MonoTime started, ClientResult& result) {
  Disarm(conn.get());
  result.response.rest =
      std::make_shared<ClientBody>(this, std::move(conn), std::move(slot), target, started);
}

asio::awaitable<ClientResult> Client::Exchange(const ClientTarget& target, std::string_view head,
                                               std::string_view body, bool head_request,
                                               uint64_t max_response_bytes,
                                               uint32_t response_timeout_ms,
                                               const std::function<void()>* on_sent, bool stream,
                                               bool upgrade) {
  const Key& key = target.key;
  const auto started = SystemClock::MonoNow();
  auto response_timeout = std::chrono::milliseconds(
      response_timeout_ms ? response_timeout_ms : target.response_timeout_ms);
  if (target.total_timeout_ms) {
    response_timeout =
        std::min(response_timeout, std::chrono::milliseconds(target.total_timeout_ms));
  }
  // The writes get the send timeout when one is set (a mirror's own
  // timeout, response_timeout_ms, bounds them too).
  auto send_timeout = response_timeout;
  if (target.send_timeout_ms && !response_timeout_ms) {
    send_timeout = std::chrono::milliseconds(target.send_timeout_ms);
    if (target.total_timeout_ms) {
      send_timeout = std::min(send_timeout, std::chrono::milliseconds(target.total_timeout_ms));
    }
  }
  bool sent_notified = false;
  bool sent_before = false;  // an earlier attempt wrote (part of) the request
  for (int attempt = 0; attempt < 2; ++attempt) {
    ClientResult result;
    result.request_sent = sent_before;
    auto conn = attempt == 0 ? TakeIdle(key) : nullptr;
    result.reused = conn != nullptr;
    // Disarms on every exit path (the Conn may be destroyed right after).
    struct Guard {
      Client* pool;
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
        result.error = ClientErrorKind::kConnect;
        result.detail = conn->timed_out ? "connect timeout" : ec.message();
        co_return result;
      }
      boost::system::error_code ignored;
      conn->socket.set_option(tcp::no_delay(true), ignored);
      conn->socket.non_blocking(true, ignored);  // write_some below must not block
    }
    guard.c = conn.get();
    Arm(conn.get(), send_timeout);
    // One non-blocking send first: a request head fits the socket buffer,
    // and a write that completes at once then costs no asynchronous
    // operation (no op, no posted completion, no coroutine resumption).
    boost::system::error_code wec;
    std::size_t sent = conn->socket.write_some(
        std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)}, wec);
    if (wec == asio::error::would_block || wec == asio::error::try_again) wec = {};
    result.request_sent = sent_before || sent > 0;
    if (!wec && sent < head.size() + body.size()) {
      const std::size_t in_head = std::min(sent, head.size());
      const std::array<asio::const_buffer, 2> rest = {asio::buffer(head.substr(in_head)),
                                                      asio::buffer(body.substr(sent - in_head))};
      auto [ec, n] = co_await asio::async_write(conn->socket, rest, kUse);
      result.request_sent = result.request_sent || n > 0;
      wec = ec;
    }
    if (wec) {
      if (result.reused && !conn->timed_out) {  // stale keep-alive connection
        sent_before = result.request_sent;
        continue;
      }
      result.error = conn->timed_out ? ClientErrorKind::kTimeout : ClientErrorKind::kIo;
      result.detail = "write: " + (conn->timed_out ? std::string("timeout") : wec.message());
      co_return result;
    }
    if (send_timeout != response_timeout) Arm(conn.get(), response_timeout);
    if (on_sent && !sent_notified) {
      sent_notified = true;
      (*on_sent)();
    }
    StreamSlot slot;
    const auto read = co_await ReadResponse(*conn, result, head_request, max_response_bytes,
                                            stream ? &slot : nullptr, upgrade);
    if (read == ReadOutcome::kStale) {  // reused connection closed before any byte
      sent_before = true;
      continue;
    }
    if (read == ReadOutcome::kFailed) co_return result;
    guard.c = nullptr;
    if (read == ReadOutcome::kUpgraded) {
      Disarm(conn.get());
      result.response.rest = std::make_shared<ClientTunnel>(
          std::move(conn), std::chrono::milliseconds(target.idle_timeout_ms), tunnel_observer_);
      co_return result;
    }
    if (read == ReadOutcome::kStreaming) {
      StartStream(std::move(conn), slot, target, started, result);
      co_return result;
    }
    Disarm(conn.get());
    if (read == ReadOutcome::kKeep) GiveBack(key, std::move(conn), target.max_idle);
    co_return result;
  }
  ClientResult r;
  r.error = ClientErrorKind::kIo;
  r.detail = "connection closed by backend";
  r.request_sent = true;  // twice written; the server may have read it before closing
  co_return r;
}

asio::awaitable<ClientResult> Client::ExchangeStreamed(const ClientTarget& target,
                                                       std::string_view head,
                                                       http::BodyStream& body, bool chunked,
                                                       bool head_request,
                                                       uint64_t max_response_bytes, bool stream) {
  const auto started = SystemClock::MonoNow();
  const auto response_timeout = std::chrono::milliseconds(target.response_timeout_ms);
  const auto send_timeout =
      target.send_timeout_ms ? std::chrono::milliseconds(target.send_timeout_ms) : response_timeout;
  ClientResult result;
  auto client_failed = [&](const Error& e) {
    result.error = ClientErrorKind::kIo;
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
    Client* pool;
    Conn* c;
    ~Guard() {
      if (c) pool->Disarm(c);
    }
  } guard{this, conn.get()};
  Arm(conn.get(), std::chrono::milliseconds(target.connect_timeout_ms));
  auto [cec] = co_await conn->socket.async_connect(target.endpoint, kUse);
  if (cec) {
    result.error = ClientErrorKind::kConnect;
    result.detail = conn->timed_out ? "connect timeout" : cec.message();
    co_return result;
  }
  boost::system::error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  auto fail_write = [&](const boost::system::error_code& ec) {
    result.error = conn->timed_out ? ClientErrorKind::kTimeout : ClientErrorKind::kIo;
    result.detail = "write: " + (conn->timed_out ? std::string("timeout") : ec.message());
  };
  Arm(conn.get(), send_timeout);
  auto [hec, hn] =
      co_await asio::async_write(conn->socket, asio::buffer(head.data(), head.size()), kUse);
  result.request_sent = hn > 0;
  if (hec) {
    fail_write(hec);
    co_return result;
  }
  static constexpr std::string_view kCrLf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  for (;;) {
    Arm(conn.get(), send_timeout);
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
  Arm(conn.get(), response_timeout);  // request sent: now the wait for the answer
  StreamSlot slot;
  const auto read = co_await ReadResponse(*conn, result, head_request, max_response_bytes,
                                          stream ? &slot : nullptr);
  if (read == ReadOutcome::kStale) {
    result.error = ClientErrorKind::kIo;
    result.detail = "read: connection closed by backend";
    co_return result;
  }
  if (read == ReadOutcome::kFailed) co_return result;
  guard.c = nullptr;
  if (read == ReadOutcome::kStreaming) {
    StartStream(std::move(conn), slot, target, started, result);
    co_return result;
  }
  Disarm(conn.get());
  if (read == ReadOutcome::kKeep) GiveBack(target.key, std::move(conn), target.max_idle);
  co_return result;
}

}  // namespace ficus::http
