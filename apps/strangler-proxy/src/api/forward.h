// Header handling of the forwarding path (pure functions, no I/O).
//
// Request to a backend:
//   - hop-by-hop fields removed (Connection and the fields it names,
//     Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*), and
//     Expect (the proxy has the whole body) and Content-Length (recomputed);
//   - X-Forwarded-For/-Proto/-Host and Forwarded as DecideForwarded()
//     (domain/forwarded.h) says for the policy and the TCP peer: replaced
//     when the peer is not a trusted hop, appended to when it is;
//   - X-Request-Id kept when the client sent a sane one (1..128 visible
//     ASCII), otherwise replaced by a generated id;
//   - X-Ficus-Timestamp: always removed from the client's request, and set
//     to the proxy's stamp when `timestamp_us` is non-zero (routed writes),
//     so a client can never choose the timestamp of a write.
// Response to the client: hop-by-hop fields and framing fields
// (Content-Length, Transfer-Encoding) dropped; the server reframes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/forwarded.h"
#include "ficus/http/message.h"

namespace ficus::proxy {

inline constexpr std::string_view kTimestampHeader = "X-Ficus-Timestamp";
inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";
inline constexpr std::string_view kMirrorHeader = "X-Ficus-Mirror";

struct ForwardFacts {
  std::string_view client_ip;
  // Used when the client's is absent/invalid; must pass ValidRequestId().
  std::string_view generated_request_id;
  int64_t timestamp_us = 0;                    // 0: no stamp (reads, unrouted requests)
  const ForwardedPolicy* forwarded = nullptr;  // nullptr: the default policy (trust nobody)
  std::string_view proto = "http";             // how the client reached the proxy
};

// Rewrites `h` in place for the upstream request; returns the request id in force.
std::string PrepareUpstreamHeaders(http::Headers& h, const ForwardFacts& facts);

bool ValidRequestId(std::string_view id);

// "METHOD target HTTP/1.1\r\n" + fields + Content-Length (when there is a
// body or the method is a write) + "\r\n". Fields with CR/LF are dropped.
// HTTP/1.1 needs a Host field: when `h` has none (an HTTP/1.0 client may
// omit it), "Host: <host_if_missing>" is sent (the backend's host:port).
void AppendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const http::Headers& h, std::size_t body_size,
                       std::string_view host_if_missing = "localhost");

// Removes from an upstream response's fields what the client must not get:
// hop-by-hop fields (and those named in Connection) and framing
// (Content-Length, Transfer-Encoding); the server reframes.
void StripResponseFraming(http::Headers& h);

}  // namespace ficus::proxy
