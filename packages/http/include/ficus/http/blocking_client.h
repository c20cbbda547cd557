// The blocking form of http::Client (client.h) for plain threads (replay
// workers, the proxy's mismatch re-checker, the migrator), never for an
// event loop's thread.
//
// Contract:
//  - BlockingExchange(): one exchange as Client::Exchange() does it (same
//    pooling, timeouts, errors); each calling thread keeps its own
//    io_context and Client, so connections stay alive between calls of the
//    same thread. Blocks for at most the target's connect timeout plus
//    `response_timeout_ms` (0: the target's response timeout).
//  - BlockingClient: one object, one target, its own io_context and Client
//    (kept-alive connections for as long as it lives). Send() serializes an
//    http::Request (request line, its fields, Host = target.host when it
//    has none, Content-Length) and reads the whole answer (at most
//    `max_response_bytes`). A non-2xx status is not an error. Errors:
//    kUnavailable (refused, reset, closed, unparsable answer), kTimeout,
//    each message naming the target and ending in "(not sent)" when no
//    byte of the request was written (ClientResult::request_sent): only
//    then is it certain the server never saw it.
//  - Never throws. Threads: a BlockingClient is used by one thread at a
//    time.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "ficus/http/client.h"
#include "ficus/http/message.h"
#include "ficus/result.h"

namespace ficus::http {

ClientResult BlockingExchange(const ClientTarget& target, std::string_view head,
                              std::string_view body, uint32_t response_timeout_ms,
                              uint64_t max_response_bytes = 16u << 20);

class BlockingClient {
 public:
  explicit BlockingClient(ClientTarget target, uint64_t max_response_bytes = 64u << 20);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  ClientResult Exchange(std::string_view head, std::string_view body);
  Result<Response> Send(const Request& req);
  // Closes the kept-alive connections.
  void CloseIdle();
  [[nodiscard]] const ClientTarget& target() const { return target_; }

  struct Loop;  // blocking_client.cc: an io_context and its Client

 private:
  ClientTarget target_;
  uint64_t max_response_bytes_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace ficus::http
