#include "model/scylla_store_url.h"

#include <fmt/format.h>

#include <charconv>

namespace ficus::writer {
namespace {

tl::unexpected<Error> Bad(std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, "store URL: " + std::move(what));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = s.find(sep, start);
    out.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<std::int64_t> Number(std::string_view name, std::string_view v, std::int64_t lo,
                            std::int64_t hi) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) {
    return Bad(fmt::format("parameter '{}': must be an integer {}..{}, got '{}'", name, lo, hi, v));
  }
  return n;
}

// host, host:port, [v6]:port; the host part must be non-empty and free of
// characters that cannot appear in a name or address.
Status CheckContactPoint(std::string_view cp) {
  std::string_view host = cp;
  std::string_view port;
  if (!cp.empty() && cp.front() == '[') {
    auto close = cp.find(']');
    if (close == std::string_view::npos) {
      return Bad(fmt::format("host '{}': missing ']'", cp));
    }
    host = cp.substr(1, close - 1);
    std::string_view rest = cp.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad(fmt::format("host '{}': junk after ']'", cp));
      port = rest.substr(1);
      if (port.empty()) return Bad(fmt::format("host '{}': empty port", cp));
    }
  } else if (auto colon = cp.find(':'); colon != std::string_view::npos) {
    if (cp.find(':', colon + 1) != std::string_view::npos) {
      return Bad(fmt::format("host '{}': IPv6 addresses need brackets, e.g. [::1]:9042", cp));
    }
    host = cp.substr(0, colon);
    port = cp.substr(colon + 1);
    if (port.empty()) return Bad(fmt::format("host '{}': empty port", cp));
  }
  if (host.empty()) return Bad(fmt::format("host '{}': empty host name", cp));
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':';
    if (!ok) return Bad(fmt::format("host '{}': invalid character '{}'", cp, c));
  }
  if (!port.empty()) {
    auto n = Number("port", port, 1, 65535);
    if (!n) return Bad(fmt::format("host '{}': port must be 1..65535", cp));
  }
  return {};
}

Result<bool> Bool(std::string_view name, std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return Bad(fmt::format("parameter '{}': must be true or false, got '{}'", name, v));
}

}  // namespace

bool IsScyllaStoreUrl(std::string_view store) {
  return store.starts_with(kScyllaScheme);
}

bool IsValidKeyspaceName(std::string_view name) {
  if (name.empty() || name.size() > 48 || name.front() < 'a' || name.front() > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<ScyllaStoreUrl> ParseScyllaStoreUrl(std::string_view url) {
  if (!IsScyllaStoreUrl(url)) {
    return Bad(fmt::format("scheme: must start with scylla://, got '{}'", url.substr(0, 16)));
  }
  ScyllaStoreUrl out;
  std::string_view rest = url.substr(kScyllaScheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view hosts = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hosts = rest.substr(0, slash);
    std::string_view ks = rest.substr(slash + 1);
    if (!ks.empty()) {
      if (!IsValidKeyspaceName(ks)) {
        return Bad(fmt::format("keyspace '{}': must match [a-z][a-z0-9_]{{0,47}}", ks));
      }
      out.keyspace = std::string(ks);
    }
  }
  if (auto at = hosts.find('@'); at != std::string_view::npos) {
    out.username = std::string(hosts.substr(0, at));
    hosts = hosts.substr(at + 1);
    if (out.username.empty()) return Bad("user: empty user name before '@'");
    if (out.username.find(':') != std::string::npos) {
      return Bad("user: a password does not belong in the URL; set FICUS_WRITER_SCYLLA_PASSWORD");
    }
  }
  if (hosts.empty())
    return Bad("hosts: at least one host is required, e.g. scylla://10.0.0.1/ficus");
  for (auto cp : Split(hosts, ',')) {
    if (auto st = CheckContactPoint(cp); !st) return tl::unexpected(st.error());
    out.contact_points.emplace_back(cp);
  }
  if (query.empty()) return out;
  for (auto pair : Split(query, '&')) {
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return Bad(fmt::format("parameter '{}': expected name=value", pair));
    }
    std::string_view name = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    if (name == "consistency") {
      auto c = cql::ParseConsistency(value);
      if (!c) return Bad(fmt::format("parameter 'consistency': {}", c.error().message));
      if (*c == cql::Consistency::kSerial || *c == cql::Consistency::kLocalSerial ||
          *c == cql::Consistency::kAny) {
        return Bad(
            fmt::format("parameter 'consistency': {} is not usable for reads and writes", value));
      }
      out.consistency = *c;
    } else if (name == "local_dc") {
      if (value.empty()) return Bad("parameter 'local_dc': empty");
      out.local_dc = std::string(value);
    } else if (name == "timeout_ms") {
      auto n = Number(name, value, 1, 60000);
      if (!n) return tl::unexpected(n.error());
      out.timeout = std::chrono::milliseconds(*n);
    } else if (name == "connect_timeout_ms") {
      auto n = Number(name, value, 1, 60000);
      if (!n) return tl::unexpected(n.error());
      out.connect_timeout = std::chrono::milliseconds(*n);
    } else if (name == "shard_aware") {
      auto b = Bool(name, value);
      if (!b) return tl::unexpected(b.error());
      out.shard_aware = *b;
    } else if (name == "max_in_flight") {
      auto n = Number(name, value, 1, 1000000);
      if (!n) return tl::unexpected(n.error());
      out.max_in_flight = static_cast<std::size_t>(*n);
    } else {
      return Bad(fmt::format(
          "unknown parameter '{}' (known: consistency, local_dc, timeout_ms, connect_timeout_ms, "
          "shard_aware, max_in_flight)",
          name));
    }
  }
  return out;
}

}  // namespace ficus::writer
