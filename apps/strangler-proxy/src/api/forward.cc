#include "api/forward.h"

#include <array>
#include <vector>

namespace ficus::proxy {

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string PrepareUpstreamHeaders(http::Headers& h, const ForwardFacts& facts) {
  http::StripHopByHop(h);
  h.Remove("expect");
  h.Remove("content-length");
  h.Remove(kTimestampHeader);
  h.Remove(kMirrorHeader);

  if (auto xff = h.Get("x-forwarded-for")) {
    std::string v(*xff);
    v += ", ";
    v += facts.client_ip;
    h.Set("X-Forwarded-For", v);
  } else {
    h.Add("X-Forwarded-For", facts.client_ip);
  }
  h.Set("X-Forwarded-Proto", "http");

  std::string id;
  if (auto rid = h.Get(kRequestIdHeader);
      rid && ValidRequestId(*rid) && h.Count(kRequestIdHeader) == 1) {
    id = std::string(*rid);
  } else {
    id = std::string(facts.generated_request_id);
    h.Set(kRequestIdHeader, id);
  }
  if (facts.timestamp_us != 0) h.Add(kTimestampHeader, std::to_string(facts.timestamp_us));
  return id;
}

namespace {
bool HasCrLf(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}
}  // namespace

void AppendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       const http::Headers& h, std::size_t body_size,
                       std::string_view host_if_missing) {
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (auto f : h) {
    if (HasCrLf(f.name) || HasCrLf(f.value)) continue;
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

void CopyResponseHeaders(const boost::beast::http::fields& in, http::Headers& out) {
  // Names listed in Connection are hop-by-hop too.
  std::vector<std::string_view> listed;
  for (const auto& f : in) {
    if (!http::IEquals(f.name_string(), "connection")) continue;
    std::string_view v = f.value();
    while (!v.empty()) {
      const auto comma = v.find(',');
      auto tok = v.substr(0, comma);
      while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
      if (!tok.empty()) listed.push_back(tok);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  static constexpr std::array<std::string_view, 10> kDrop = {
      "connection",     "keep-alive",         "proxy-connection", "te",
      "trailer",        "transfer-encoding",  "upgrade",          "proxy-authenticate",
      "content-length", "proxy-authorization"};
  for (const auto& f : in) {
    const std::string_view name = f.name_string();
    bool drop = false;
    for (auto d : kDrop) drop = drop || http::IEquals(name, d);
    for (auto l : listed) drop = drop || http::IEquals(name, l);
    if (!drop) out.Add(name, f.value());
  }
}

}  // namespace ficus::proxy
