#include "service/upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <functional>

namespace ficus::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

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
  conn->stream.expires_never();
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
    if (!conn) {
      conn = std::make_unique<Conn>(executor_);
      conn->stream.expires_after(std::chrono::milliseconds(target.connect_timeout_ms));
      auto [ec] = co_await conn->stream.async_connect(target.endpoint, kUse);
      if (ec) {
        result.error = UpstreamErrorKind::kConnect;
        result.detail = ec == beast::error::timeout ? "connect timeout" : ec.message();
        co_return result;
      }
      conn->stream.socket().set_option(tcp::no_delay(true));
    }
    conn->stream.expires_after(response_timeout);
    const std::array<asio::const_buffer, 2> bufs = {asio::buffer(head.data(), head.size()),
                                                    asio::buffer(body.data(), body.size())};
    auto [wec, wn] = co_await asio::async_write(conn->stream, bufs, kUse);
    (void)wn;
    if (wec) {
      if (result.reused && wec != beast::error::timeout) continue;  // stale keep-alive connection
      result.error =
          wec == beast::error::timeout ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
      result.detail = "write: " + wec.message();
      co_return result;
    }
    if (on_sent && !sent_notified) {
      sent_notified = true;
      (*on_sent)();
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(max_response_bytes);
    parser.header_limit(64 * 1024);
    if (head_request) parser.skip(true);
    auto [rec, rn] = co_await bhttp::async_read(conn->stream, conn->buffer, parser, kUse);
    (void)rn;
    if (rec) {
      if (result.reused && !parser.got_some() && rec != beast::error::timeout &&
          conn->buffer.size() == 0) {
        continue;  // backend closed the idle connection just as we reused it
      }
      result.error =
          rec == beast::error::timeout ? UpstreamErrorKind::kTimeout : UpstreamErrorKind::kIo;
      result.detail = "read: " + rec.message();
      co_return result;
    }
    const bool keep = parser.keep_alive() && !parser.need_eof();
    result.response = parser.release();
    if (keep && conn->buffer.size() == 0) GiveBack(key, std::move(conn), target.max_idle);
    co_return result;
  }
  UpstreamResult r;
  r.error = UpstreamErrorKind::kIo;
  r.detail = "connection closed by backend";
  co_return r;
}

}  // namespace ficus::proxy
