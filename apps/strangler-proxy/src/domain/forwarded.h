// Which X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded fields a request
// carries to a backend (pure; no I/O, no HTTP types).
//
// Contract of DecideForwarded():
//   - The TCP peer is trusted when its address is in `policy.trusted`
//     (CIDRs: the load balancers or proxies in front of this one).
//   - From an UNTRUSTED peer, whatever the client sent in these four fields
//     is discarded, enabled or not (a client can never choose the address a
//     backend sees), and the enabled ones are set from what the proxy saw:
//       X-Forwarded-For: <peer>   X-Forwarded-Proto: <proto>
//       X-Forwarded-Host: <Host>  Forwarded: for=<peer>;host="<Host>";proto=<proto>
//   - From a TRUSTED peer they are appended to, as nginx's
//     $proxy_add_x_forwarded_for does: X-Forwarded-For = sent list + ", " +
//     peer; X-Forwarded-Proto and -Host keep the sent value (else as above);
//     Forwarded = sent list + ", " + our element, unless the sent list is not
//     valid RFC 7239 syntax (then replaced, as nginx's documented map does).
//     Fields that are not enabled pass through unchanged.
//   - Empty result strings mean "do not send the field". Host absent: no
//     X-Forwarded-Host and no host= in the element.
// IPv6 peers are quoted in Forwarded (for="[::1]"); the host is always a
// quoted-string with '"' and '\' escaped.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::proxy {

struct Cidr {
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  uint8_t bits = 0;
  bool v4 = true;
};

// "10.0.0.0/8", "127.0.0.1" (= /32), "::1/128", "fd00::/8". Host bits past
// the prefix must be zero. Error: kInvalidArgument with the reason.
Result<Cidr> ParseCidr(std::string_view text);

// True when `ip` (an address literal, as the listener reports the peer) is
// inside one of `trusted`. An unparsable address is never trusted.
bool PeerTrusted(std::span<const Cidr> trusted, std::string_view ip);

struct ForwardedPolicy {
  std::vector<Cidr> trusted;  // empty: trust nobody
  bool x_forwarded = true;    // X-Forwarded-For, -Proto, -Host
  bool forwarded = false;     // RFC 7239 Forwarded
};

struct ForwardedRequest {
  std::string_view peer_ip;              // the TCP peer's address
  std::string_view proto;                // how the client reached this proxy: "http" or "https"
  std::optional<std::string_view> host;  // the Host field
  // The client's fields, several of a name joined with ", "; nullopt: absent.
  std::optional<std::string_view> x_forwarded_for, x_forwarded_proto, x_forwarded_host, forwarded;
};

struct ForwardedFields {
  bool trusted_peer = false;
  // Values to send; empty = do not send (and for a field that is not
  // enabled: the client's value, passed through from a trusted peer).
  std::string x_forwarded_for, x_forwarded_proto, x_forwarded_host, forwarded;
};

ForwardedFields DecideForwarded(const ForwardedPolicy& policy, const ForwardedRequest& request);

// RFC 7239 section 4 list syntax (the nginx wiki's regex for it): elements
// of token=token|quoted-string pairs joined by ';', elements by OWS "," OWS.
bool ValidForwardedList(std::string_view value);

}  // namespace ficus::proxy
