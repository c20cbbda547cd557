// BodyStream: a request body the handler reads piece by piece (the server's
// opt-in streaming mode, see ServerOptions::stream_body in server.h).
//
// Contract:
//   - Read() is co_awaited from the handler's coroutine, one call at a time,
//     only while the handler runs (the stream belongs to the connection and
//     is invalid once the handler has returned).
//   - Each successful Read() gives the next decoded body bytes (chunked
//     framing removed), at most one socket read's worth (about 16 KiB), so
//     a streamed body is never held whole in memory. The view stays valid
//     until the next Read() or the end of the handler. An empty view means
//     the body is complete (and is returned again by later calls).
//   - Errors: kInvalidArgument (malformed chunking), kTooLarge (over
//     max_body_bytes), kTimeout (body not complete within body_timeout),
//     kUnavailable (client closed or reset the connection). After an error
//     every later Read() returns the same error; the server then answers
//     the client itself (400 / 413 / 408, as in buffered mode; the
//     handler's response is discarded) and closes the connection.
//   - A handler that returns before the body is complete gets its response
//     sent with "Connection: close"; the connection is not reused.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ficus/result.h"

namespace ficus::http {

class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual boost::asio::awaitable<Result<std::string_view>> Read() = 0;
  // The declared length (Content-Length), nullopt for a chunked body.
  [[nodiscard]] virtual std::optional<std::uint64_t> content_length() const = 0;
  // True once the whole body has been read.
  [[nodiscard]] virtual bool done() const = 0;
  // Decoded body bytes handed out so far.
  [[nodiscard]] virtual std::uint64_t bytes_read() const = 0;
};

}  // namespace ficus::http
