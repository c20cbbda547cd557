// ResponseFramer: finds where each HTTP/1.1 response ends in the bytes a
// load-generator connection reads, with no I/O, so the client knows when a
// request is answered and whether the connection stays usable.
//
//   ResponseFramer f;
//   f.Feed(bytes) -> kNeedMore | kComplete | kError
//   on kComplete: f.status(), f.keep_alive(), f.consumed() bytes of input
//   belong to this response; the caller drops them and calls Reset().
//
// Framing (RFC 9112 6.3): 1xx/204/304 have no body; Transfer-Encoding:
// chunked (chunk extensions and trailers skipped); else Content-Length;
// else the body runs to the end of the connection (reported as kError
// "close-delimited body": a load generator wants keep-alive answers).
// keep_alive is false for HTTP/1.0 without "Connection: keep-alive" or for
// "Connection: close". Heads over 64 KiB, a bad status line or a bad
// Content-Length are kError with a message.
//
// A load generator only has to measure; it trusts the server under test
// about as much as wrk does, and is differential-tested against Beast's
// parser on the answers our servers and nginx give.
//
// Threads: none; one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ficus::bench {

class ResponseFramer {
 public:
  enum class State { kNeedMore, kComplete, kError };

  // `data` is everything unconsumed received so far (the caller keeps the
  // buffer; Feed re-scans from where it stopped).
  State Feed(std::string_view data);
  void Reset();

  [[nodiscard]] unsigned status() const { return status_; }
  [[nodiscard]] bool keep_alive() const { return keep_alive_; }
  [[nodiscard]] std::size_t consumed() const { return pos_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  State Fail(std::string msg);
  State ParseHead(std::string_view data);
  State ParseChunked(std::string_view data);

  enum class Phase { kHead, kFixedBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers };
  Phase phase_ = Phase::kHead;
  std::size_t pos_ = 0;  // bytes of `data` consumed so far
  std::uint64_t remaining_ = 0;
  unsigned status_ = 0;
  bool keep_alive_ = true;
  std::string error_;
};

}  // namespace ficus::bench
