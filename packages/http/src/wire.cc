#include "wire.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

namespace ficus::http::wire {

namespace {

void AppendUint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

bool Controlled(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
         IEquals(name, "connection");
}

void AppendFields(std::string& out, const Headers& h) {
  for (auto f : h) {
    if (Controlled(f.name)) continue;
    if (h.MayContainCrLf() && (ContainsCrLf(f.name) || ContainsCrLf(f.value))) continue;
    out.append(f.name);
    out.append(": ");
    out.append(f.value);
    out.append("\r\n");
  }
}

}  // namespace

void AppendStatusLine(std::string& out, const Response& r) {
  out.append("HTTP/1.1 ");
  AppendUint(out, r.status);
  out.push_back(' ');
  if (!r.reason.empty() && !ContainsCrLf(r.reason)) {
    out.append(r.reason);
  } else {
    const auto status = boost::beast::http::int_to_status(r.status);
    if (status != boost::beast::http::status::unknown) {
      out.append(boost::beast::http::obsolete_reason(status));
    }
  }
  out.append("\r\n");
}

void AppendResponse(std::string& out, const Response& r, bool head_only, bool keep_alive,
                    unsigned request_version) {
  AppendStatusLine(out, r);
  AppendFields(out, r.headers);
  bool no_body = (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
  if (!no_body) {
    out.append("Content-Length: ");
    AppendUint(out, head_only && r.content_length ? *r.content_length : r.body.size());
    out.append("\r\n");
  }
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (request_version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!no_body && !head_only) out.append(r.body);
}

void AppendStreamedHead(std::string& out, const Response& r, BodyFraming framing, bool keep_alive,
                        unsigned request_version) {
  AppendStatusLine(out, r);
  AppendFields(out, r.headers);
  if (framing == BodyFraming::kLength) {
    out.append("Content-Length: ");
    AppendUint(out, r.content_length.value_or(0));
    out.append("\r\n");
  } else if (framing == BodyFraming::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (request_version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void AppendUpgradeHead(std::string& out, const Response& r) {
  AppendStatusLine(out, r);
  AppendFields(out, r.headers);
  out.append("Connection: upgrade\r\n\r\n");
}

void AppendRequestHead(std::string& out, const Request& r, std::string_view host_header) {
  out.append(r.method);
  out.push_back(' ');
  out.append(r.target.empty() ? std::string_view("/") : std::string_view(r.target));
  out.append(" HTTP/1.1\r\n");
  if (!r.headers.Contains("host")) {
    out.append("Host: ");
    out.append(host_header);
    out.append("\r\n");
  }
  AppendFields(out, r.headers);
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    out.append("Content-Length: ");
    AppendUint(out, r.body.size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

bool HasCompleteHead(std::string_view data) {
  return data.find("\r\n\r\n") != std::string_view::npos;
}

}  // namespace ficus::http::wire
