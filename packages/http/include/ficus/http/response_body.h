// ResponseBody: a response body the server writes piece by piece as its
// source produces it (Response::stream, see message.h), e.g. a proxy
// relaying a backend's answer without holding it whole.
//
// Contract (server side, server.h "Streamed responses"):
//   - Read() is co_awaited by the server, one call at a time, on the
//     connection's loop, only after the previous piece was written to the
//     client: a source is never read faster than the client drains it
//     (back-pressure). The view stays valid until the next Read() or the
//     destruction of the body.
//   - An empty view ends the body (complete). Read() is not called again.
//   - An error means the body cannot be completed (the source stalled,
//     was cut, or sent a malformed framing): the server aborts the response
//     (closes the connection without completing its framing: no last chunk,
//     fewer bytes than Content-Length), so the client never takes a cut body
//     for a complete one.
//   - The server destroys the body when the response is finished, the
//     client went away, or the connection is closed; a source must release
//     what it holds (e.g. close a backend connection it could not finish).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "ficus/result.h"

namespace ficus::http {

class ResponseBody {
 public:
  virtual ~ResponseBody() = default;
  virtual boost::asio::awaitable<Result<std::string_view>> Read() = 0;
  // Upgrade tunnels: on a 101 answer the server writes the head (with
  // "Connection: upgrade"), then hands the client connection over: Tunnel()
  // gets the socket and the client bytes already read past the request,
  // and the connection is closed when it returns. Read() is not called.
  // The default refuses (returns at once: the connection closes).
  virtual boost::asio::awaitable<void> Tunnel(boost::asio::ip::tcp::socket& client,
                                              std::string_view client_bytes) {
    (void)client;
    (void)client_bytes;
    co_return;
  }
};

}  // namespace ficus::http
