// A raw HTTP/1.1 client for pass-through tests: sends exact bytes and reads
// answers by their framing (RFC 9112 6.3), recording what a strict client
// would see: interim answers, status line, fields in order, the decoded
// body, trailers, and whether the framing completed or the connection was
// cut first (a truncated body must never look complete).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ficus/testing/raw_client.h"

namespace ficus::proxy::blackbox {

struct WireAnswer {
  std::vector<int> interim;  // 1xx status codes seen before the final answer
  int status = -1;           // -1: no status line
  std::string version;       // "HTTP/1.1"
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string body;      // decoded
  bool chunked = false;  // sent with Transfer-Encoding: chunked
  bool close_delimited = false;
  bool complete = false;      // the framing completed (close-delimited: EOF seen)
  double first_body_ms = -1;  // from the request write to the first body byte
  double total_ms = -1;       // to the end of the answer
  [[nodiscard]] std::optional<std::string> Field(std::string_view name) const;
  [[nodiscard]] int Count(std::string_view name) const;
  [[nodiscard]] std::string Describe() const;  // for failure messages
};

class WireClient {
 public:
  // `source`: the local address to connect from (any 127.0.0.0/8 address
  // is loopback on Linux: tests play clients of different addresses).
  explicit WireClient(uint16_t port, const char* source = nullptr);
  [[nodiscard]] bool connected() const { return conn_.connected(); }
  bool Send(std::string_view bytes);
  // Reads one answer; `head_request`: the request was HEAD (no body).
  WireAnswer Read(bool head_request = false,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the peer closed (EOF or reset) within `wait` with no more bytes.
  bool PeerClosed(std::chrono::milliseconds wait = std::chrono::milliseconds(500));
  // Raw bytes read so far and not yet consumed.
  [[nodiscard]] const std::string& pending() const { return pending_; }
  // Reads whatever arrives within `wait` (after an upgrade).
  std::string ReadRaw(std::chrono::milliseconds wait);

 private:
  // Appends more bytes to pending_; false on EOF/error/timeout.
  bool Fill(std::chrono::steady_clock::time_point until);
  ficus::testing::RawClient conn_;  // the connection; reads here go by poll()
  std::string pending_;
  bool eof_ = false;
  std::chrono::steady_clock::time_point sent_at_;
};

}  // namespace ficus::proxy::blackbox
