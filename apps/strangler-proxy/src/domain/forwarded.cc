#include "domain/forwarded.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ficus::proxy {
namespace {

// Address literal -> bytes (inet_pton is a pure conversion, no I/O).
bool ParseAddress(std::string_view text, std::array<uint8_t, 16>& out, bool& v4) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out.fill(0);
  if (::inet_pton(AF_INET, buf, out.data()) == 1) {
    v4 = true;
    return true;
  }
  if (::inet_pton(AF_INET6, buf, out.data()) == 1) {
    v4 = false;
    return true;
  }
  return false;
}

bool Contains(const Cidr& c, const std::array<uint8_t, 16>& a, bool v4) {
  if (c.v4 != v4) return false;
  const unsigned full = c.bits / 8u, rest = c.bits % 8u;
  if (std::memcmp(c.addr.data(), a.data(), full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (c.addr[full] & mask) == (a[full] & mask);
}

bool IsTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// token: 1*tchar; advances i.
bool Token(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  while (i < s.size() && IsTchar(static_cast<unsigned char>(s[i]))) ++i;
  return i > start;
}

// quoted-string (RFC 9110 5.6.4); advances i past the closing quote.
bool Quoted(std::string_view s, std::size_t& i) {
  if (i >= s.size() || s[i] != '"') return false;
  for (++i; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      ++i;
      return true;
    }
    if (c == '\\') {
      if (++i == s.size()) return false;
      const auto e = static_cast<unsigned char>(s[i]);
      if (e != '\t' && (e < 0x20 || e == 0x7f)) return false;
    } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
      return false;
    }
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view v) {
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendElement(std::string& out, const ForwardedRequest& r, bool v4_peer) {
  out += "for=";
  if (v4_peer) {
    out.append(r.peer_ip);
  } else {
    out += "\"[";
    out.append(r.peer_ip);
    out += "]\"";
  }
  if (r.host) {
    out += ";host=";
    AppendQuoted(out, *r.host);
  }
  out += ";proto=";
  out.append(r.proto);
}

}  // namespace

Result<Cidr> ParseCidr(std::string_view text) {
  const auto slash = text.find('/');
  Cidr c;
  if (!ParseAddress(text.substr(0, slash), c.addr, c.v4)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "must be an IP address or CIDR (10.0.0.0/8, ::1/128), got '" + std::string(text) + "'");
  }
  const unsigned max = c.v4 ? 32 : 128;
  unsigned bits = max;
  if (slash != std::string_view::npos) {
    const auto b = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (b.empty() || ec != std::errc() || p != b.data() + b.size() || bits > max) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "prefix length must be 0.." + std::to_string(max) + ", got '" + std::string(text) + "'");
    }
  }
  c.bits = static_cast<uint8_t>(bits);
  for (unsigned i = bits; i < max; ++i) {
    if (c.addr[i / 8] & (0x80 >> (i % 8))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "host bits set past the prefix length in '" + std::string(text) + "'");
    }
  }
  return c;
}

bool PeerTrusted(std::span<const Cidr> trusted, std::string_view ip) {
  if (trusted.empty()) return false;
  std::array<uint8_t, 16> a;
  bool v4 = true;
  if (!ParseAddress(ip, a, v4)) return false;
  for (const auto& c : trusted) {
    if (Contains(c, a, v4)) return true;
  }
  return false;
}

bool ValidForwardedList(std::string_view s) {
  std::size_t i = 0;
  for (;;) {
    // One element: pairs (possibly none) separated by ';'.
    for (;;) {
      if (i < s.size() && IsTchar(static_cast<unsigned char>(s[i]))) {
        Token(s, i);
        if (i >= s.size() || s[i] != '=') return false;
        ++i;
        if (!Token(s, i) && !Quoted(s, i)) return false;
      }
      if (i < s.size() && s[i] == ';') {
        ++i;
        continue;
      }
      break;
    }
    if (i == s.size()) return true;
    std::size_t j = i;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j == s.size() || s[j] != ',') return false;
    i = j + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
}

ForwardedFields DecideForwarded(const ForwardedPolicy& policy, const ForwardedRequest& r) {
  ForwardedFields out;
  std::array<uint8_t, 16> peer{};
  bool v4 = true;
  const bool parsed = ParseAddress(r.peer_ip, peer, v4);
  out.trusted_peer = parsed && PeerTrusted(policy.trusted, r.peer_ip);
  const bool trusted = out.trusted_peer;
  auto sent = [&](const std::optional<std::string_view>& v) {
    return trusted && v ? std::string(*v) : std::string();
  };
  if (policy.x_forwarded) {
    if (trusted && r.x_forwarded_for && !r.x_forwarded_for->empty()) {
      out.x_forwarded_for.reserve(r.x_forwarded_for->size() + 2 + r.peer_ip.size());
      out.x_forwarded_for.append(*r.x_forwarded_for).append(", ");
    }
    out.x_forwarded_for.append(r.peer_ip);
    out.x_forwarded_proto = trusted && r.x_forwarded_proto && !r.x_forwarded_proto->empty()
                                ? std::string(*r.x_forwarded_proto)
                                : std::string(r.proto);
    if (trusted && r.x_forwarded_host && !r.x_forwarded_host->empty()) {
      out.x_forwarded_host = std::string(*r.x_forwarded_host);
    } else if (r.host) {
      out.x_forwarded_host = std::string(*r.host);
    }
  } else {
    out.x_forwarded_for = sent(r.x_forwarded_for);
    out.x_forwarded_proto = sent(r.x_forwarded_proto);
    out.x_forwarded_host = sent(r.x_forwarded_host);
  }
  if (policy.forwarded) {
    if (trusted && r.forwarded && !r.forwarded->empty() && ValidForwardedList(*r.forwarded)) {
      out.forwarded.append(*r.forwarded).append(", ");
    }
    AppendElement(out.forwarded, r, !parsed || v4);
  } else {
    out.forwarded = sent(r.forwarded);
  }
  return out;
}

}  // namespace ficus::proxy
