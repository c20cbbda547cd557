// RequestParser: the HTTP/1.1 request codec of the server, with no I/O.
//
// Bytes in, a Request (or a Rejection) out. The server feeds it from its
// socket buffer; tests and the fuzzer feed it from memory, so the exact same
// code decides what reaches a handler.
//
// Strictness (RFC 9112), checked on the raw head before Beast parses it:
//   - request line: token method, one SP, target of visible ASCII, one SP,
//     exactly "HTTP/1.0" or "HTTP/1.1", CRLF. Anything else: 400.
//   - target longer than max_uri_bytes: 414. Head (request line + fields +
//     empty line) longer than max_header_bytes: 431 (414 when the request
//     line alone is already too long).
//   - field lines: token name immediately followed by ':' (no whitespace),
//     value without control characters other than HTAB, CRLF endings only
//     (bare LF or CR: 400), no obs-fold (a line starting with SP/HTAB: 400).
//   - Content-Length: at most one field, 1..19 digits only (no lists, no
//     signs); Transfer-Encoding: at most one field and exactly "chunked";
//     both together: 400. HTTP/1.1 needs exactly one Host (400 otherwise).
// Beast's parser then builds the request and decodes the body (chunk sizes,
// chunk extensions, limits); any error it reports is a 400, except the body
// limit (413). Chunked trailers are parsed and discarded.
//
// Threads: none; one parser per connection (Reset() between requests),
// used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/http/message.h"

namespace ficus::http {

enum class RejectReason : std::uint8_t {
  kBadRequest = 0,  // 400: malformed or ambiguous request (smuggling shapes)
  kUriTooLong,      // 414
  kHeaderTooLarge,  // 431
  kBodyTooLarge,    // 413
  kHeaderTimeout,   // 408: head not received in time (slowloris)
  kBodyTimeout,     // 408: body not received in time
  kMaxConnections,  // connection refused at accept (over max_connections)
};
inline constexpr std::size_t kRejectReasonCount = 7;
// "bad_request", "uri_too_long", ... (metric label values).
std::string_view RejectReasonName(RejectReason reason);

struct Rejection {
  unsigned status = 400;
  RejectReason reason = RejectReason::kBadRequest;
  std::string message;  // envelope msg, e.g. "body: larger than 65536 bytes"
};

struct ParserLimits {
  std::size_t max_header_bytes = 16 * 1024UL;  // request line + fields + CRLFCRLF
  std::size_t max_uri_bytes = 8 * 1024UL;
  std::uint64_t max_body_bytes = 1024 * 1024UL;
};

// The envelope messages the library itself uses (consistent everywhere):
std::string BodyTooLargeMessage(std::uint64_t limit);  // "body: larger than N bytes"
std::string HeaderTooLargeMessage(std::size_t limit);  // "header: larger than N bytes"
std::string UriTooLongMessage(std::size_t limit);      // "uri: longer than N bytes"

class RequestParser {
 public:
  enum class Status { kNeedMore, kDone, kRejected };

  explicit RequestParser(const ParserLimits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Makes the parser ready for the next request on the same connection
  // (keeps allocated capacity; no heap allocation).
  void Reset();

  // Phase 1. `data` is every byte buffered so far for this request (leading
  // empty lines allowed). kNeedMore: no complete head yet, nothing consumed
  // (call again with more bytes; kRejected with 431/414 once the limit is
  // passed). kDone: head parsed, request() has everything but the body,
  // *consumed = head bytes. kRejected: see rejection().
  Status ParseHead(std::string_view data, std::size_t* consumed);

  // After kDone from ParseHead:
  bool chunked() const { return chunked_; }
  std::optional<std::uint64_t> content_length() const { return content_length_; }
  bool expect_continue() const { return expect_continue_; }
  // True when the message has no body left to read.
  bool body_done() const;
  // 413 rejection if the declared Content-Length is over the limit (call it
  // before reading the body; the body is not read).
  std::optional<Rejection> CheckDeclaredLength() const;

  // Phase 2. Consumes body bytes from `data`. kNeedMore: all of `data` that
  // could be used was consumed (*consumed), feed more. kDone: request
  // complete, *consumed bytes used (the rest belongs to the next request).
  // kRejected: 400 (bad chunk) or 413 (chunked body over the limit).
  Status ParseBody(std::string_view data, std::size_t* consumed);

  // Where ParseBody() appends decoded body bytes: `out`, or request().body
  // when nullptr (the default; Reset() restores it). Used by the server's
  // streaming mode to hand out body pieces without growing the request.
  void SetBodyOutput(std::string* out);

  Request& request() { return request_; }
  const Rejection& rejection() const { return rejection_; }

 private:
  class Impl;
  Status Reject(unsigned status, RejectReason reason, std::string message);
  Status ValidateHead(std::string_view head);

  ParserLimits limits_;
  Request request_;
  Rejection rejection_;
  std::unique_ptr<Impl> impl_;
  std::optional<std::uint64_t> content_length_;
  bool chunked_ = false;
  bool expect_continue_ = false;
  // A request without Content-Length or Transfer-Encoding has no body: its
  // head, fully checked by ValidateHead(), is not parsed a second time.
  bool bodyless_ = false;
  bool connection_close_ = false;       // Connection names "close"
  bool connection_keep_alive_ = false;  // Connection names "keep-alive"
  bool connection_plain_ = true;        // every Connection element is a token
};

// Parses one complete request from memory (tests, fuzzing). kNeedMore if the
// bytes end before the request does. *consumed = bytes of this request.
RequestParser::Status ParseRequest(std::string_view bytes, const ParserLimits& limits, Request* out,
                                   Rejection* rejection, std::size_t* consumed);

}  // namespace ficus::http
