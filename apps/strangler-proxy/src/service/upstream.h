// Upstream HTTP/1.1 client of the proxy: keep-alive connection pools, one
// pool per event loop, with connect and response timeouts.
//
// Contract:
//  - UpstreamPool belongs to one io_context and is used only from its thread
//    (no locks on the request path). Idle connections are kept per backend
//    up to `max_idle`; a connection goes back to the pool only after a
//    complete response that allows keep-alive.
//  - Exchange() sends one request (head already serialized, body as given)
//    and reads one response into memory (at most `max_response_bytes`).
//    A reused connection that fails before any response byte arrives (the
//    backend closed an idle keep-alive connection) is retried once on a new
//    connection; nothing else is retried.
//  - Errors: kConnect (connect refused/failed or connect timeout), kTimeout
//    (no complete response within the response timeout), kIo (reset, EOF
//    mid-response, unparsable or oversized response).
//  - Never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ficus::proxy {

struct UpstreamTarget {
  std::string name;  // backend name
  std::string key;   // pool key: name@ip:port (set by the builder)
  boost::asio::ip::tcp::endpoint endpoint;
  uint32_t connect_timeout_ms = 1000;
  uint32_t response_timeout_ms = 30000;
  uint32_t max_idle = 256;
};

enum class UpstreamErrorKind { kNone, kConnect, kTimeout, kIo };
const char* UpstreamErrorName(UpstreamErrorKind k);

struct UpstreamResult {
  UpstreamErrorKind error = UpstreamErrorKind::kNone;
  std::string detail;  // for logs
  boost::beast::http::response<boost::beast::http::string_body> response;
  bool reused = false;  // served on a pooled connection
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

  // Closes every idle connection (drain, reload).
  void CloseIdle();
  [[nodiscard]] std::size_t IdleCount() const;

 private:
  struct Conn {
    explicit Conn(boost::asio::any_io_executor ex) : stream(std::move(ex)) {}
    boost::beast::tcp_stream stream;
    boost::beast::flat_buffer buffer;
  };
  using Key = std::string;  // name + "@" + endpoint
  std::unique_ptr<Conn> TakeIdle(const Key& key);
  void GiveBack(const Key& key, std::unique_ptr<Conn> conn, uint32_t max_idle);

  boost::asio::any_io_executor executor_;
  std::unordered_map<Key, std::vector<std::unique_ptr<Conn>>> idle_;
};

}  // namespace ficus::proxy
