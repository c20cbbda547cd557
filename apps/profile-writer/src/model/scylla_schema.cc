#include "model/scylla_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ficus/clock.h"
#include "ficus/cql/connection.h"
#include "ficus/cql/types.h"

namespace ficus::writer {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

tl::unexpected<Error> BadReplication(std::string why) {
  return MakeError(ErrorCode::kInvalidArgument, "--replication: " + std::move(why));
}

Result<int> Factor(std::string_view text, std::string_view where) {
  int rf = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), rf);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || rf < 1 || rf > 15) {
    return BadReplication(
        fmt::format("{}: replication factor must be 1..15, got '{}'", where, text));
  }
  return rf;
}

std::string Trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

struct HostPort {
  std::string host;
  std::string port;
};

HostPort Split(const std::string& cp) {
  if (!cp.empty() && cp.front() == '[') {
    auto close = cp.find(']');
    std::string port = close + 1 < cp.size() ? cp.substr(close + 2) : "9042";
    return {cp.substr(1, close - 1), port};
  }
  auto colon = cp.find(':');
  if (colon == std::string::npos) return {cp, "9042"};
  return {cp.substr(0, colon), cp.substr(colon + 1)};
}

std::string FirstLine(std::string_view stmt) {
  auto nl = stmt.find('\n');
  return std::string(stmt.substr(0, nl));
}

Result<cql::RowsResult> ExpectRows(Result<cql::ResponseFrame> r) {
  if (!r) return tl::unexpected(r.error());
  if (auto* e = std::get_if<cql::ErrorResponse>(&r->body)) return tl::unexpected(cql::ToError(*e));
  if (auto* rb = std::get_if<cql::ResultBody>(&r->body)) {
    if (auto* rows = std::get_if<cql::RowsResult>(rb)) return std::move(*rows);
  }
  return MakeError(ErrorCode::kInternal, "expected rows");
}

// Distinct schema versions reported by the node and the peers it knows.
awaitable<Result<std::set<std::string>>> SchemaVersions(cql::Connection& conn,
                                                        std::chrono::milliseconds timeout) {
  std::set<std::string> versions;
  const char* queries[] = {"SELECT schema_version FROM system.local WHERE key='local'",
                           "SELECT schema_version FROM system.peers"};
  for (const char* q : queries) {
    cql::QueryParameters p;
    p.consistency = cql::Consistency::kOne;
    cql::Request req = cql::QueryRequest{q, p};
    auto answer = co_await conn.Send(std::move(req), timeout);
    auto rows = ExpectRows(std::move(answer));
    if (!rows) co_return tl::unexpected(rows.error());
    int i = rows->ColumnIndex("schema_version");
    if (i < 0) continue;
    for (const auto& row : rows->rows) {
      if (!row[static_cast<std::size_t>(i)]) continue;
      auto u = cql::DecodeUuid(*row[static_cast<std::size_t>(i)]);
      if (u) versions.insert(u->ToString());
    }
  }
  co_return versions;
}

awaitable<Status> ApplyOver(const ApplySchemaOptions& o, const std::vector<std::string>& stmts) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  std::shared_ptr<cql::Connection> conn;
  std::string last = "no contact point";
  for (const auto& cp : o.url.contact_points) {
    auto hp = Split(cp);
    boost::system::error_code ec;
    auto results =
        co_await resolver.async_resolve(hp.host, hp.port, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      last = fmt::format("resolve '{}': {}", cp, ec.message());
      continue;
    }
    for (const auto& entry : results) {
      cql::ConnectionOptions copts;
      copts.connect_timeout = o.url.connect_timeout;
      copts.handshake_timeout = o.url.timeout;
      copts.username = o.url.username;
      copts.password = o.password;
      asio::ip::tcp::endpoint ep = entry.endpoint();
      auto c = co_await cql::Connection::Open(ex, ep, std::move(copts));
      if (c) {
        conn = std::move(*c);
        break;
      }
      last = c.error().message;
    }
    if (conn) break;
  }
  if (!conn) {
    co_return MakeError(ErrorCode::kUnavailable,
                        "schema apply: no contact point reachable: " + last);
  }
  if (o.progress) {
    o.progress(
        fmt::format("connected to {}:{}", conn->peer().address().to_string(), conn->peer().port()));
  }
  // DDL can take a while on a busy cluster: a generous per-statement timeout.
  auto ddl_timeout = std::max(o.url.timeout, std::chrono::milliseconds(30000));
  for (const auto& stmt : stmts) {
    cql::QueryParameters p;
    p.consistency = cql::Consistency::kOne;  // ignored for DDL; kept explicit
    cql::Request req = cql::QueryRequest{stmt, p};
    auto answer = co_await conn->Send(std::move(req), ddl_timeout);
    if (!answer) {
      conn->Close();
      co_return MakeError(
          answer.error().code,
          fmt::format("schema apply: '{}': {}", FirstLine(stmt), answer.error().message));
    }
    if (auto* e = std::get_if<cql::ErrorResponse>(&answer->body)) {
      conn->Close();
      co_return MakeError(
          ErrorCode::kInternal,
          fmt::format("schema apply: '{}': {}", FirstLine(stmt), cql::ToError(*e).message));
    }
    std::string outcome = "unchanged (already exists)";
    if (auto* rb = std::get_if<cql::ResultBody>(&answer->body)) {
      if (auto* sc = std::get_if<cql::SchemaChangeResult>(rb)) {
        outcome = fmt::format("{} {} {}{}", sc->change_type, sc->target, sc->keyspace,
                              sc->name.empty() ? "" : "." + sc->name);
      }
    }
    if (o.progress) o.progress(fmt::format("{} -> {}", FirstLine(stmt), outcome));
  }
  const MonoTime deadline = SystemClock::MonoNow() + o.agreement_timeout;
  for (;;) {
    auto versions = co_await SchemaVersions(*conn, o.url.timeout);
    if (versions && versions->size() <= 1) {
      if (o.progress) o.progress("schema agreement reached");
      break;
    }
    if (SystemClock::MonoNow() >= deadline) {
      std::string why = versions ? fmt::format("{} distinct schema versions", versions->size())
                                 : versions.error().message;
      conn->Close();
      co_return MakeError(ErrorCode::kTimeout,
                          "schema apply: statements ran, but no schema agreement within " +
                              std::to_string(o.agreement_timeout.count()) + " ms (" + why + ")");
    }
    asio::steady_timer t(ex, std::chrono::milliseconds(250));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  conn->Close();
  co_return Status{};
}

}  // namespace

Result<std::vector<CqlSchemaFile>> LoadCqlSchemaDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<CqlSchemaFile> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".cql") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--schema-dir: cannot read " + entry.path().string());
    }
    out.push_back({entry.path().filename().string(), ss.str()});
  }
  if (ec)
    return MakeError(ErrorCode::kInvalidArgument, "--schema-dir: " + dir + ": " + ec.message());
  if (out.empty())
    return MakeError(ErrorCode::kInvalidArgument, "--schema-dir: no .cql files in " + dir);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<std::string> ParseReplication(std::string_view spec) {
  auto colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return BadReplication(fmt::format(
        "expected SimpleStrategy:<rf> or NetworkTopologyStrategy:<dc>=<rf>[,...], got '{}'", spec));
  }
  std::string_view cls = spec.substr(0, colon);
  std::string_view rest = spec.substr(colon + 1);
  if (cls == "SimpleStrategy") {
    auto rf = Factor(rest, "SimpleStrategy");
    if (!rf) return tl::unexpected(rf.error());
    return fmt::format("{{'class': 'SimpleStrategy', 'replication_factor': {}}}", *rf);
  }
  if (cls != "NetworkTopologyStrategy") {
    return BadReplication(
        fmt::format("unknown strategy '{}' (use SimpleStrategy or NetworkTopologyStrategy)", cls));
  }
  std::string out = "{'class': 'NetworkTopologyStrategy'";
  std::set<std::string, std::less<>> seen;
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t comma = rest.find(',', start);
    std::string_view item =
        rest.substr(start, comma == std::string_view::npos ? rest.npos : comma - start);
    auto eq = item.find('=');
    std::string_view dc = item.substr(0, eq);
    bool dc_ok = !dc.empty() && std::all_of(dc.begin(), dc.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    });
    if (eq == std::string_view::npos || !dc_ok) {
      return BadReplication(fmt::format(
          "data centre entry '{}': expected <dc>=<rf> with dc of [A-Za-z0-9_.-]", item));
    }
    if (!seen.insert(std::string(dc)).second) {
      return BadReplication(fmt::format("data centre '{}' given twice", dc));
    }
    auto rf = Factor(item.substr(eq + 1), fmt::format("data centre '{}'", dc));
    if (!rf) return tl::unexpected(rf.error());
    out += fmt::format(", '{}': {}", dc, *rf);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out + "}";
}

Result<std::vector<std::string>> RenderCqlSchema(const std::vector<CqlSchemaFile>& files,
                                                 const CqlSchemaParams& params) {
  if (!IsValidKeyspaceName(params.keyspace)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "keyspace '" + params.keyspace + "': must match [a-z][a-z0-9_]{0,47}");
  }
  if (params.history_ttl_s < 0 || params.history_ttl_s > 630720000) {  // 20 years, CQL's max TTL
    return MakeError(ErrorCode::kInvalidArgument, "--history-ttl: must be 0..630720000 seconds");
  }
  const std::pair<std::string, std::string> vars[] = {
      {"{{keyspace}}", params.keyspace},
      {"{{replication}}", params.replication},
      {"{{history_ttl}}", std::to_string(params.history_ttl_s)},
  };
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::string body;
    std::istringstream lines(f.text);
    for (std::string line; std::getline(lines, line);) {
      if (Trim(line).rfind("--", 0) == 0) continue;
      body += line + "\n";
    }
    for (const auto& [name, value] : vars) {
      for (auto at = body.find(name); at != std::string::npos;
           at = body.find(name, at + value.size())) {
        body.replace(at, name.size(), value);
      }
    }
    if (auto at = body.find("{{"); at != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("{}: unknown placeholder '{}'", f.name,
                                   body.substr(at, body.find("}}", at) + 2 - at)));
    }
    std::size_t start = 0;
    for (;;) {
      std::size_t semi = body.find(';', start);
      std::string stmt =
          Trim(body.substr(start, semi == std::string::npos ? body.npos : semi - start));
      if (!stmt.empty()) {
        if (semi == std::string::npos) {
          return MakeError(ErrorCode::kInvalidArgument,
                           f.name + ": last statement does not end with ';'");
        }
        out.push_back(std::move(stmt));
      }
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
  }
  if (out.empty()) return MakeError(ErrorCode::kInvalidArgument, "schema: no statements");
  return out;
}

Status ApplyCqlSchema(const ApplySchemaOptions& options,
                      const std::vector<std::string>& statements) {
  asio::io_context io;
  Status result = MakeError(ErrorCode::kInternal, "schema apply did not finish");
  asio::co_spawn(io, ApplyOver(options, statements), [&](const std::exception_ptr& e, Status st) {
    result = e ? Status(MakeError(ErrorCode::kInternal, "schema apply: exception")) : std::move(st);
  });
  io.run();
  return result;
}

}  // namespace ficus::writer
