#include "api/forward.h"

#include <array>
#include <cassert>
#include <charconv>
#include <vector>

namespace ficus::proxy {

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

namespace {

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Fields never forwarded as received: hop-by-hop (RFC 9110 7.6.1), framing
// the proxy recomputes, and the proxy's own fields.
bool DroppedRequestField(std::string_view name) {
  if (http::FramingRole(name) != http::FieldRole::kEndToEnd) return true;
  // The proxy's own fields, and Expect (the proxy answers 100-continue itself).
  static constexpr std::string_view kOwn[] = {"expect", "x-ficus-timestamp", "x-ficus-mirror"};
  for (auto d : kOwn) {
    if (d.size() == name.size() && http::IEquals(d, name)) return true;
  }
  return false;
}

// One of the forwarding fields as the client sent it: several fields of the
// name are one list joined with ", " (a view while there is only one).
struct SentList {
  std::optional<std::string_view> value;
  std::string joined;
  void Add(std::string_view v) {
    if (!value) {
      value = v;
      return;
    }
    if (joined.empty()) joined.assign(*value);
    joined.append(", ").append(v);
    value = joined;
  }
};

void AddIfAny(http::Headers& h, std::string_view name, const std::string& value, bool scan) {
  if (value.empty()) return;
  if (scan) {
    h.Add(name, value);
  } else {
    h.AddParsed(name, value);
  }
}

const ForwardedPolicy kDefaultForwarded;

}  // namespace

std::string PrepareUpstreamHeaders(http::Headers& h, const ForwardFacts& facts) {
  // One pass over the client's fields (this runs for every request): the
  // names listed in Connection first, then a rebuilt list without them.
  std::string_view listed[16];
  std::size_t n_listed = 0;
  bool many_listed = false;
  std::size_t request_ids = 0;
  std::string_view request_id;
  std::optional<std::string_view> host;
  for (auto f : h) {
    if (http::IEquals(f.name, "connection")) {
      std::string_view v = f.value;
      while (!v.empty()) {
        const auto comma = v.find(',');
        const auto tok = TrimOws(v.substr(0, comma));
        // Never let a Connection token strip Host (a hostile client could).
        if (!tok.empty() && !http::IEquals(tok, "host")) {
          if (n_listed < std::size(listed)) {
            listed[n_listed++] = tok;
          } else {
            many_listed = true;
          }
        }
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      }
    } else if (http::IEquals(f.name, kRequestIdHeader)) {
      ++request_ids;
      request_id = f.value;
    } else if (!host && http::IEquals(f.name, "host")) {
      host = f.value;
    }
  }
  if (many_listed) {  // pathological: fall back to the library's general strip
    http::StripHopByHop(h);
    n_listed = 0;
  }
  std::string id =
      request_ids == 1 && ValidRequestId(request_id) ? std::string(request_id) : std::string();
  // In place (no rebuilt list, no allocation once the buffers have grown):
  // removing fields leaves the bytes, and the views above, where they are.
  SentList xff, xfp, xfh, fwd;
  h.RemoveIf([&](http::Headers::Field f) {
    if (DroppedRequestField(f.name)) return true;
    for (std::size_t i = 0; i < n_listed; ++i) {
      if (http::IEquals(f.name, listed[i])) return true;
    }
    if (f.name.size() > 9 && (f.name[0] == 'x' || f.name[0] == 'X')) {
      if (http::IEquals(f.name, "x-forwarded-for")) {
        xff.Add(f.value);
        return true;
      }
      if (http::IEquals(f.name, "x-forwarded-proto")) {
        xfp.Add(f.value);
        return true;
      }
      if (http::IEquals(f.name, "x-forwarded-host")) {
        xfh.Add(f.value);
        return true;
      }
    } else if (http::IEquals(f.name, "forwarded")) {
      fwd.Add(f.value);
      return true;
    }
    return http::IEquals(f.name, kRequestIdHeader);  // re-added below
  });
  if (id.empty()) id = std::string(facts.generated_request_id);
  assert(ValidRequestId(id));
  // Decided before any Add: the views above point into h's buffer.
  const ForwardedFields fields =
      DecideForwarded(facts.forwarded ? *facts.forwarded : kDefaultForwarded,
                      ForwardedRequest{facts.client_ip, facts.proto, host, xff.value, xfp.value,
                                       xfh.value, fwd.value});
  // The values come from the request's own fields (CR/LF-free unless the
  // list says otherwise) and the client address.
  const bool scan = h.MayContainCrLf() || http::ContainsCrLf(facts.client_ip);
  AddIfAny(h, "X-Forwarded-For", fields.x_forwarded_for, scan);
  AddIfAny(h, "X-Forwarded-Proto", fields.x_forwarded_proto, scan);
  AddIfAny(h, "X-Forwarded-Host", fields.x_forwarded_host, scan);
  AddIfAny(h, "Forwarded", fields.forwarded, scan);
  h.AddParsed(kRequestIdHeader, id);
  if (facts.timestamp_us != 0) {
    char ts[24];
    const auto end = std::to_chars(ts, ts + sizeof ts, facts.timestamp_us).ptr;
    h.AddParsed(kTimestampHeader, std::string_view(ts, static_cast<std::size_t>(end - ts)));
  }
  return id;
}

void AppendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const http::Headers& h, std::size_t body_size,
                       std::string_view host_if_missing) {
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (auto f : h) {
    if (h.MayContainCrLf() && (http::ContainsCrLf(f.name) || http::ContainsCrLf(f.value))) {
      continue;
    }
    has_host = has_host || http::IEquals(f.name, "host");
    out.append(f.name);
    out.append(": ");
    out.append(f.value);
    out.append("\r\n");
  }
  if (!has_host) {
    out.append("Host: ");
    out.append(host_if_missing);
    out.append("\r\n");
  }
  const bool write =
      !(method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE");
  if (body_size > 0 || write) {
    out.append("Content-Length: ");
    out.append(std::to_string(body_size));
    out.append("\r\n");
  }
  out.append("\r\n");
}

void StripResponseFraming(http::Headers& h) {
  // Connection-listed names first, then one in-place pass.
  std::string_view listed[16];
  std::size_t n_listed = 0;
  for (auto f : h) {
    if (!http::IEquals(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      const auto comma = v.find(',');
      const auto tok = TrimOws(v.substr(0, comma));
      if (!tok.empty() && !http::IEquals(tok, "keep-alive") && !http::IEquals(tok, "close")) {
        if (n_listed == std::size(listed)) {  // pathological: the general strip
          http::StripHopByHop(h);
          h.Remove("content-length");
          return;
        }
        listed[n_listed++] = tok;
      }
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  auto dropped = [&](std::string_view name) {
    for (std::size_t i = 0; i < n_listed; ++i) {
      if (http::IEquals(listed[i], name)) return true;
    }
    return http::FramingRole(name) != http::FieldRole::kEndToEnd;
  };
  h.RemoveIf([&](http::Headers::Field f) { return dropped(f.name); });  // in place
}

}  // namespace ficus::proxy
