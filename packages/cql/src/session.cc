#include "ficus/cql/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"

namespace ficus::cql {

namespace asio = boost::asio;
using asio::use_awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct Session::Host {
  std::string address;
  asio::ip::address ip;
  std::uint16_t port = 9042;
  std::string datacenter;
  std::string rack;
  std::vector<std::int64_t> tokens;
  std::optional<ScyllaSharding> sharding;
  std::vector<std::shared_ptr<Connection>> conns;  // index = shard (one slot without sharding)
  bool reconnecting = false;
  bool up = true;  // false from a broken connection until one opens again
  std::shared_ptr<asio::steady_timer> reconnect_timer;

  [[nodiscard]] std::size_t OpenCount() const {
    return static_cast<std::size_t>(
        std::count_if(conns.begin(), conns.end(), [](const auto& c) { return c && c->is_open(); }));
  }
  [[nodiscard]] bool Complete(bool shard_aware) const {
    if (sharding && shard_aware && sharding->shard_aware_port) return OpenCount() == conns.size();
    return OpenCount() > 0;
  }
};

namespace {

struct HostPort {
  std::string host;
  std::optional<std::uint16_t> port;
};

Result<HostPort> SplitHostPort(std::string_view cp) {
  HostPort hp;
  std::string_view port_text;
  if (!cp.empty() && cp.front() == '[') {
    auto close = cp.find(']');
    if (close == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("contact point '{}': missing ']'", cp));
    }
    hp.host = std::string(cp.substr(1, close - 1));
    if (close + 1 < cp.size()) {
      if (cp[close + 1] != ':') {
        return MakeError(ErrorCode::kInvalidArgument,
                         fmt::format("contact point '{}': junk after ']'", cp));
      }
      port_text = cp.substr(close + 2);
    }
  } else if (std::count(cp.begin(), cp.end(), ':') == 1) {
    auto colon = cp.find(':');
    hp.host = std::string(cp.substr(0, colon));
    port_text = cp.substr(colon + 1);
  } else {
    hp.host = std::string(cp);
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("contact point '{}': bad port", cp));
    }
    hp.port = static_cast<std::uint16_t>(port);
  }
  if (hp.host.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("contact point '{}': empty host", cp));
  return hp;
}

std::optional<std::string> TextCell(const RowsResult& rows, const Row& row,
                                    std::string_view column) {
  int i = rows.ColumnIndex(column);
  if (i < 0 || !row[static_cast<std::size_t>(i)]) return std::nullopt;
  auto t = DecodeText(*row[static_cast<std::size_t>(i)]);
  if (!t) return std::nullopt;
  return *t;
}

std::optional<std::string> InetCell(const RowsResult& rows, const Row& row,
                                    std::string_view column) {
  int i = rows.ColumnIndex(column);
  if (i < 0 || !row[static_cast<std::size_t>(i)]) return std::nullopt;
  auto t = DecodeInetAddress(*row[static_cast<std::size_t>(i)]);
  if (!t || *t == "0.0.0.0" || *t == "::") return std::nullopt;
  return *t;
}

std::vector<std::int64_t> TokensCell(const RowsResult& rows, const Row& row) {
  std::vector<std::int64_t> out;
  int i = rows.ColumnIndex("tokens");
  if (i < 0 || !row[static_cast<std::size_t>(i)]) return out;
  auto set = DecodeTextSet(*row[static_cast<std::size_t>(i)]);
  if (!set) return out;
  for (const auto& s : *set) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) out.push_back(v);
  }
  return out;
}

Result<RowsResult> ExpectRows(Result<ResponseFrame> r, std::string_view what) {
  if (!r) return tl::unexpected(r.error());
  if (auto* e = std::get_if<ErrorResponse>(&r->body)) return tl::unexpected(ToError(*e));
  if (auto* rb = std::get_if<ResultBody>(&r->body)) {
    if (auto* rows = std::get_if<RowsResult>(rb)) return std::move(*rows);
  }
  return MakeError(ErrorCode::kInternal, fmt::format("cql: {} did not return rows", what));
}

}  // namespace

Session::Session(Executor ex, SessionOptions options)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      backoff_(options_.reconnect_base, options_.reconnect_max,
               options_.random_seed ? options_.random_seed : std::random_device{}()),
      rng_(options_.random_seed ? options_.random_seed + 1 : std::random_device{}()) {}

Session::~Session() {
  Close();
}

ConnectionOptions Session::ConnOptions() const {
  ConnectionOptions c;
  c.connect_timeout = options_.connect_timeout;
  c.handshake_timeout = options_.request_timeout;
  c.username = options_.username;
  c.password = options_.password;
  c.max_streams = options_.max_streams_per_connection;
  return c;
}

asio::awaitable<Result<std::shared_ptr<Session>>> Session::Connect(Executor ex,
                                                                   SessionOptions options) {
  if (options.contact_points.empty()) {
    co_return MakeError(ErrorCode::kInvalidArgument, "cql: no contact points configured");
  }
  std::shared_ptr<Session> s(new Session(ex, std::move(options)));
  std::shared_ptr<Connection> control;
  Error last(ErrorCode::kUnavailable, "cql: no contact point reachable");
  tcp::resolver resolver(ex);
  for (const auto& cp : s->options_.contact_points) {
    auto hp = SplitHostPort(cp);
    if (!hp) co_return tl::unexpected(hp.error());
    error_code ec;
    std::string service = std::to_string(hp->port.value_or(s->options_.port));
    auto results =
        co_await resolver.async_resolve(hp->host, service, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      last = Error(ErrorCode::kUnavailable, fmt::format("cql: resolve '{}': {}", cp, ec.message()));
      continue;
    }
    for (const auto& entry : results) {
      ConnectionOptions copts = s->ConnOptions();
      tcp::endpoint ep = entry.endpoint();
      auto conn = co_await Connection::Open(ex, ep, std::move(copts));
      if (conn) {
        control = std::move(*conn);
        break;
      }
      last = conn.error();
    }
    if (control) break;
  }
  if (!control) {
    co_return MakeError(
        last.code, fmt::format("cql: no contact point reachable (last error: {})", last.message));
  }
  // Every node listens on the port of the contact point that answered.
  s->options_.port = control->peer().port();
  auto topo = co_await s->LoadTopology(control);
  if (!topo) {
    control->Close("topology query failed");
    co_return tl::unexpected(topo.error());
  }
  auto local = s->hosts_.at(control->peer().address().to_string());
  s->Adopt(local, control);
  for (auto& [addr, host] : s->hosts_) {
    co_await s->FillPool(host);
    if (!host->Complete(s->options_.shard_aware)) s->ScheduleReconnect(host);
  }
  co_return s;
}

asio::awaitable<Status> Session::LoadTopology(std::shared_ptr<Connection> conn) {
  QueryParameters p;
  p.consistency = Consistency::kOne;
  // Named locals, never temporaries, inside co_await (GCC 12 double-destroys them).
  Request local_req =
      QueryRequest{"SELECT data_center, rack, tokens FROM system.local WHERE key='local'", p};
  auto local_answer = co_await conn->Send(std::move(local_req), options_.request_timeout);
  auto local = ExpectRows(std::move(local_answer), "system.local");
  if (!local) co_return tl::unexpected(local.error());
  Request peers_req =
      QueryRequest{"SELECT peer, rpc_address, data_center, rack, tokens FROM system.peers", p};
  auto peers_answer = co_await conn->Send(std::move(peers_req), options_.request_timeout);
  auto peers = ExpectRows(std::move(peers_answer), "system.peers");
  if (!peers) co_return tl::unexpected(peers.error());

  std::map<std::string, std::shared_ptr<Host>> next;
  auto upsert = [&](const std::string& address, const RowsResult& rows, const Row& row) {
    auto it = hosts_.find(address);
    auto host = it != hosts_.end() ? it->second : std::make_shared<Host>();
    error_code ec;
    host->address = address;
    host->ip = asio::ip::make_address(address, ec);
    host->port = options_.port;
    host->datacenter = TextCell(rows, row, "data_center").value_or("");
    host->rack = TextCell(rows, row, "rack").value_or("");
    host->tokens = TokensCell(rows, row);
    if (!ec) next[address] = host;
  };
  std::string local_address = conn->peer().address().to_string();
  if (!local->rows.empty()) {
    upsert(local_address, *local, local->rows.front());
  } else {
    upsert(local_address, *local, Row(local->metadata.columns.size()));
  }
  for (const auto& row : peers->rows) {
    auto addr = InetCell(*peers, row, "rpc_address");
    if (!addr) addr = InetCell(*peers, row, "peer");
    if (addr) upsert(*addr, *peers, row);
  }
  // Hosts that left the cluster: close their pools.
  for (auto& [addr, host] : hosts_) {
    if (next.count(addr)) continue;
    for (auto& c : host->conns) {
      if (c) c->Close("host left the cluster");
    }
  }
  hosts_ = std::move(next);
  ring_.clear();
  for (const auto& [addr, host] : hosts_) {
    for (auto t : host->tokens) ring_.emplace_back(t, host);
  }
  std::sort(ring_.begin(), ring_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  co_return Status{};
}

asio::awaitable<Status> Session::RefreshTopology() {
  auto conn = Pick(std::nullopt).first;
  if (!conn) co_return MakeError(ErrorCode::kUnavailable, "cql: no open connection");
  auto st = co_await LoadTopology(conn);
  if (!st) co_return st;
  for (auto& [addr, host] : hosts_) {
    if (host->OpenCount() == 0 && !host->reconnecting) {
      co_await FillPool(host);
      if (!host->Complete(options_.shard_aware)) ScheduleReconnect(host);
    }
  }
  co_return Status{};
}

asio::awaitable<Result<std::shared_ptr<Connection>>> Session::OpenTo(
    const std::shared_ptr<Host>& host, std::optional<unsigned> shard) {
  ConnectionOptions copts = ConnOptions();
  if (!shard || !host->sharding || !host->sharding->shard_aware_port) {
    tcp::endpoint ep(host->ip, host->port);
    co_return co_await Connection::Open(ex_, ep, std::move(copts));
  }
  // Shard-aware port: the server picks the shard from our local port.
  const unsigned nr = host->sharding->nr_shards;
  std::uniform_int_distribution<unsigned> pick(options_.local_port_min, options_.local_port_max);
  Error last(ErrorCode::kUnavailable, "cql: no local port available");
  for (int attempt = 0; attempt < 8; ++attempt) {
    unsigned p = pick(rng_);
    p = p - p % nr + *shard;
    if (p < options_.local_port_min) p += nr;
    if (p > options_.local_port_max) p -= nr;
    copts.local_port = static_cast<std::uint16_t>(p);
    tcp::endpoint ep(host->ip, *host->sharding->shard_aware_port);
    ConnectionOptions attempt_opts = copts;
    auto conn = co_await Connection::Open(ex_, ep, std::move(attempt_opts));
    if (conn) co_return conn;
    last = conn.error();
    if (last.message.rfind("cql: cannot bind", 0) != 0)
      break;  // only a busy port is worth another try
  }
  co_return tl::unexpected(last);
}

void Session::Adopt(const std::shared_ptr<Host>& host, const std::shared_ptr<Connection>& conn) {
  const auto& sh = conn->sharding();
  if (options_.shard_aware && sh &&
      (!host->sharding || host->sharding->nr_shards != sh->nr_shards ||
       host->conns.size() != sh->nr_shards)) {
    host->sharding = sh;
    host->conns.resize(sh->nr_shards);
  }
  if (!options_.shard_aware || !sh) host->sharding.reset();
  if (host->conns.empty()) host->conns.resize(1);
  std::size_t slot = (host->sharding && sh) ? sh->shard : 0;
  if (slot >= host->conns.size()) slot = 0;
  if (host->conns[slot] && host->conns[slot]->is_open()) {
    conn->Close("duplicate connection for shard");
    return;
  }
  host->conns[slot] = conn;
  MarkUp(*host);
  std::weak_ptr<Session> weak_self = weak_from_this();
  std::weak_ptr<Host> weak_host = host;
  Connection* raw = conn.get();
  conn->SetOnClose([weak_self, weak_host, raw, slot](std::string_view) {
    auto self = weak_self.lock();
    auto h = weak_host.lock();
    if (!self || !h) return;
    if (slot < h->conns.size() && h->conns[slot].get() == raw) h->conns[slot].reset();
    if (self->closed_) return;
    // The host may be dead: keep requests off it until a connection opens
    // again (the reconnect loop below is the background probe).
    self->MarkDown(*h);
    self->ScheduleReconnect(h);
  });
}

asio::awaitable<Status> Session::FillPool(std::shared_ptr<Host> host) {
  Error last(ErrorCode::kUnavailable, fmt::format("cql: no connection to {}", host->address));
  if (host->OpenCount() == 0) {
    auto conn = co_await OpenTo(host, std::nullopt);
    if (!conn) co_return tl::unexpected(conn.error());
    if (closed_) {
      (*conn)->Close("session closed");
      co_return Status{};
    }
    Adopt(host, *conn);
  }
  if (!host->sharding || !options_.shard_aware) co_return Status{};
  const unsigned nr = host->sharding->nr_shards;
  if (host->sharding->shard_aware_port) {
    for (unsigned shard = 0; shard < nr && !closed_; ++shard) {
      if (shard < host->conns.size() && host->conns[shard] && host->conns[shard]->is_open())
        continue;
      auto conn = co_await OpenTo(host, shard);
      if (!conn) {
        last = conn.error();
        continue;
      }
      Adopt(host, *conn);
    }
  } else {
    // No shard-aware port: connections land on shards the server picks;
    // open a bounded number and keep one per shard.
    for (unsigned attempt = 0; attempt < 2 * nr && host->OpenCount() < nr && !closed_; ++attempt) {
      auto conn = co_await OpenTo(host, std::nullopt);
      if (!conn) {
        last = conn.error();
        break;
      }
      Adopt(host, *conn);
    }
  }
  if (host->OpenCount() == 0) co_return tl::unexpected(last);
  co_return Status{};
}

void Session::ScheduleReconnect(const std::shared_ptr<Host>& host) {
  if (closed_ || host->reconnecting) return;
  host->reconnecting = true;
  host->reconnect_timer = std::make_shared<asio::steady_timer>(ex_);
  asio::co_spawn(ex_, ReconnectLoop(host), asio::detached);
}

asio::awaitable<void> Session::ReconnectLoop(std::shared_ptr<Host> host) {
  std::weak_ptr<Session> weak = weak_from_this();
  auto timer = host->reconnect_timer;
  for (int attempt = 0;; ++attempt) {
    {
      auto self = weak.lock();
      if (!self || self->closed_) break;
      timer->expires_after(self->backoff_.Delay(attempt));
    }
    error_code ec;
    co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
    auto self = weak.lock();
    if (!self || self->closed_ || ec) break;
    // A host that left the cluster (topology refresh) is not retried forever.
    auto known = self->hosts_.find(host->address);
    if (known == self->hosts_.end() || known->second != host) break;
    ++self->reconnect_attempts_;
    co_await self->FillPool(host);
    if (self->closed_ || host->Complete(self->options_.shard_aware)) break;
  }
  host->reconnecting = false;
}

std::shared_ptr<Session::Host> Session::Owner(std::int64_t token) const {
  if (ring_.empty()) return nullptr;
  auto it = std::lower_bound(ring_.begin(), ring_.end(), token,
                             [](const auto& entry, std::int64_t t) { return entry.first < t; });
  std::size_t start = it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
  if (options_.local_dc.empty()) return ring_[start].second;
  // NetworkTopologyStrategy places a replica on the first node of each DC
  // met walking the ring clockwise from the token.
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    const auto& host = ring_[(start + i) % ring_.size()].second;
    if (host->datacenter == options_.local_dc) return host;
  }
  return nullptr;
}

std::optional<std::pair<std::string, unsigned>> Session::RouteOf(std::int64_t token) const {
  auto host = Owner(token);
  if (!host) return std::nullopt;
  unsigned shard = 0;
  if (host->sharding)
    shard = ScyllaShardOf(token, host->sharding->nr_shards, host->sharding->ignore_msb);
  return std::make_pair(host->address, shard);
}

void Session::MarkDown(Host& host) {
  if (!host.up) return;
  host.up = false;
  ++stats_.host_down;
}

void Session::MarkUp(Host& host) {
  if (host.up) return;
  host.up = true;
  ++stats_.host_up;
}

std::pair<std::shared_ptr<Connection>, std::shared_ptr<Session::Host>> Session::Pick(
    std::optional<std::int64_t> token, const std::vector<const Host*>& tried) {
  auto untried = [&tried](const Host* h) {
    return std::find(tried.begin(), tried.end(), h) == tried.end();
  };
  auto conn_of = [&token](const Host& host) -> std::shared_ptr<Connection> {
    std::size_t slot = 0;
    if (token && host.sharding && host.conns.size() == host.sharding->nr_shards) {
      slot = ScyllaShardOf(*token, host.sharding->nr_shards, host.sharding->ignore_msb);
    }
    if (slot < host.conns.size() && host.conns[slot] && host.conns[slot]->is_open())
      return host.conns[slot];
    for (const auto& c : host.conns) {
      if (c && c->is_open()) return c;
    }
    return nullptr;
  };
  // Pass 0 takes only hosts that are up; pass 1 also down ones (better a
  // host we doubt than no host at all).
  for (int pass = 0; pass < 2; ++pass) {
    auto eligible = [&](const Host& h) { return (pass == 1 || h.up) && untried(&h); };
    if (token && !ring_.empty()) {
      // The owner, then the next distinct hosts clockwise: the replicas of
      // SimpleStrategy / NetworkTopologyStrategy within the local DC.
      auto it = std::lower_bound(ring_.begin(), ring_.end(), *token,
                                 [](const auto& entry, std::int64_t t) { return entry.first < t; });
      const std::size_t start =
          it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
      const Host* previous = nullptr;
      for (std::size_t i = 0; i < ring_.size(); ++i) {
        const auto& host = ring_[(start + i) % ring_.size()].second;
        if (host.get() == previous) continue;
        previous = host.get();
        if (!options_.local_dc.empty() && host->datacenter != options_.local_dc) continue;
        if (!eligible(*host)) continue;
        if (auto c = conn_of(*host)) return {c, host};
      }
    }
    std::vector<std::pair<std::shared_ptr<Connection>, std::shared_ptr<Host>>> local, remote;
    for (const auto& [addr, host] : hosts_) {
      if (!eligible(*host)) continue;
      bool is_local = options_.local_dc.empty() || host->datacenter == options_.local_dc;
      for (const auto& c : host->conns) {
        if (c && c->is_open()) (is_local ? local : remote).emplace_back(c, host);
      }
    }
    auto& pool = local.empty() ? remote : local;
    if (!pool.empty()) return pool[round_robin_++ % pool.size()];
  }
  return {nullptr, nullptr};
}

std::optional<std::int64_t> Session::TokenOf(const PreparedStatement& stmt,
                                             const std::vector<Value>& values) {
  if (stmt.pk_indexes.empty()) return std::nullopt;
  std::vector<ByteView> parts;
  for (auto idx : stmt.pk_indexes) {
    if (idx >= values.size() || values[idx].kind != Value::Kind::kSet) return std::nullopt;
    parts.emplace_back(values[idx].bytes);
  }
  return Murmur3Token(RoutingKey(parts));
}

QueryParameters Session::Params(std::vector<Value> values, const ExecOptions& opts) const {
  QueryParameters p;
  p.consistency = opts.consistency.value_or(options_.consistency);
  if (!values.empty()) p.values = std::move(values);
  p.page_size = opts.page_size;
  p.paging_state = opts.paging_state;
  p.timestamp = opts.timestamp;
  return p;
}

asio::awaitable<Result<ResultBody>> Session::RunWithReprepare(std::shared_ptr<Connection> conn,
                                                              Request req,
                                                              std::chrono::milliseconds timeout,
                                                              AttemptError* failure) {
  *failure = AttemptError::kOther;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&deadline] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  Request first = req;
  auto r = co_await conn->Send(std::move(first), timeout);
  if (!r) {
    *failure = ClassifySendError(r.error());
    co_return tl::unexpected(r.error());
  }
  auto* err = std::get_if<ErrorResponse>(&r->body);
  // Ids re-prepared for this request: a second UNPREPARED for one of them is
  // returned as an error, so this loop runs at most once per distinct
  // statement (a BATCH names one unknown id per answer).
  std::vector<Bytes> reprepared;
  while (err && err->code == static_cast<std::int32_t>(ErrorKind::kUnprepared)) {
    if (std::find(reprepared.begin(), reprepared.end(), err->unprepared_id) != reprepared.end())
      break;
    // The node lost (or never had) the statement: prepare it there and retry.
    auto known = query_of_id_.find(err->unprepared_id);
    if (known == query_of_id_.end()) break;
    std::string query = known->second;
    Bytes old_id = err->unprepared_id;
    reprepared.push_back(old_id);
    Request prepare_req = PrepareRequest{query};
    auto p = co_await conn->Send(std::move(prepare_req), left());
    if (!p) {
      *failure = ClassifySendError(p.error());
      co_return tl::unexpected(p.error());
    }
    if (auto* pe = std::get_if<ErrorResponse>(&p->body)) co_return tl::unexpected(ToError(*pe));
    auto* rb = std::get_if<ResultBody>(&p->body);
    auto* prepared = rb ? std::get_if<PreparedResult>(rb) : nullptr;
    if (!prepared)
      co_return MakeError(ErrorCode::kInternal, "cql: PREPARE did not return a prepared result");
    if (prepared->id != old_id) {
      auto stmt = std::make_shared<PreparedStatement>(
          PreparedStatement{query, prepared->id, prepared->pk_indexes, prepared->bind_columns});
      prepared_[query] = stmt;
      query_of_id_[prepared->id] = query;
      reprepared.push_back(prepared->id);
      if (auto* e = std::get_if<ExecuteRequest>(&req)) e->id = prepared->id;
      if (auto* b = std::get_if<BatchRequest>(&req)) {
        for (auto& st : b->statements) {
          if (st.prepared && st.id == old_id) st.id = prepared->id;
        }
      }
    }
    Request retry = req;
    r = co_await conn->Send(std::move(retry), left());
    if (!r) {
      *failure = ClassifySendError(r.error());
      co_return tl::unexpected(r.error());
    }
    err = std::get_if<ErrorResponse>(&r->body);
  }
  if (err) {
    *failure = ClassifyServerError(err->code);
    co_return tl::unexpected(ToError(*err));
  }
  if (auto* body = std::get_if<ResultBody>(&r->body)) co_return std::move(*body);
  co_return MakeError(ErrorCode::kInternal,
                      fmt::format("cql: unexpected {} response", OpcodeName(r->header.opcode)));
}

// Two attempts of one speculative request; the first usable answer wins.
struct Session::Race {
  explicit Race(const Executor& ex) : wake(ex) {}
  asio::steady_timer wake;  // cancelled when `winner` is set
  int running = 0;
  std::optional<Result<ResultBody>> winner;
  AttemptError failure = AttemptError::kOther;  // of the winner, when it is an error
};

asio::awaitable<void> Session::RunRaced(std::shared_ptr<Session> self, std::shared_ptr<Race> race,
                                        std::shared_ptr<Connection> conn, Request req,
                                        std::chrono::milliseconds timeout) {
  AttemptError failure = AttemptError::kOther;
  auto r = co_await self->RunWithReprepare(std::move(conn), std::move(req), timeout, &failure);
  --race->running;
  if (race->winner) co_return;  // the other attempt answered first: dropped
  // A retryable failure waits for the other attempt, if one is running.
  if (r || failure == AttemptError::kOther || race->running == 0) {
    race->winner = std::move(r);
    race->failure = failure;
    race->wake.cancel();
  }
}

asio::awaitable<Result<ResultBody>> Session::Run(Request req, std::optional<std::int64_t> token,
                                                 const ExecOptions& opts) {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  const milliseconds timeout = opts.timeout.value_or(options_.request_timeout);
  const Clock::time_point deadline = Clock::now() + timeout;
  const bool idempotent = opts.idempotent;
  const int max_attempts = idempotent ? 1 + std::max(0, options_.retry.max_retries) : 1;
  const bool speculate = idempotent && opts.speculative && options_.retry.speculative_delay;
  std::vector<const Host*> tried;
  std::optional<Result<ResultBody>> last;
  for (int attempt = 1;; ++attempt) {
    auto picked = Pick(token, tried);
    std::shared_ptr<Connection> conn = picked.first;
    if (!conn) {
      if (last) co_return std::move(*last);
      co_return MakeError(ErrorCode::kUnavailable, "cql: no open connection to any host");
    }
    tried.push_back(picked.second.get());
    const milliseconds remaining = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    if (remaining <= milliseconds(0)) {
      if (last) co_return std::move(*last);
      co_return MakeError(ErrorCode::kTimeout, "cql: request deadline passed");
    }
    // An idempotent attempt is cut short to leave time for the next host -
    // unless there is no next host to try (then it gets all that is left).
    milliseconds attempt_timeout = remaining;
    if (idempotent && static_cast<int>(tried.size()) < max_attempts && Pick(token, tried).first) {
      attempt_timeout = std::min(remaining, options_.retry.attempt_timeout);
    }
    AttemptError failure = AttemptError::kOther;
    Result<ResultBody> r = MakeError(ErrorCode::kInternal, "cql: no attempt made");
    if (speculate && attempt == 1) {
      auto race = std::make_shared<Race>(ex_);
      race->running = 1;
      Request first = req;
      asio::co_spawn(ex_,
                     RunRaced(shared_from_this(), race, conn, std::move(first), attempt_timeout),
                     asio::detached);
      race->wake.expires_after(*options_.retry.speculative_delay);
      error_code ec;
      co_await race->wake.async_wait(asio::redirect_error(use_awaitable, ec));
      if (!race->winner) {
        auto second = Pick(token, tried);
        const milliseconds left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
        if (second.first && left > milliseconds(0)) {
          tried.push_back(second.second.get());
          ++stats_.speculative_executions;
          ++race->running;
          Request copy = req;
          asio::co_spawn(ex_,
                         RunRaced(shared_from_this(), race, second.first, std::move(copy),
                                  std::min(left, options_.retry.attempt_timeout)),
                         asio::detached);
        }
        race->wake.expires_at(Clock::time_point::max());
        if (!race->winner) co_await race->wake.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      r = std::move(*race->winner);
      failure = race->failure;
    } else {
      Request copy = req;
      r = co_await RunWithReprepare(conn, std::move(copy), attempt_timeout, &failure);
    }
    if (r) co_return r;
    RetryState state{.idempotent = idempotent,
                     .attempts_made = static_cast<int>(tried.size()),
                     .max_attempts = max_attempts,
                     .remaining = deadline - Clock::now()};
    if (!ShouldRetryOnNextHost(failure, state)) co_return r;
    ++stats_.retries;
    last = std::move(r);
  }
}

asio::awaitable<Result<ResultBody>> Session::Query(std::string cql, std::vector<Value> values,
                                                   ExecOptions opts) {
  auto token = opts.routing_token;
  Request req = QueryRequest{std::move(cql), Params(std::move(values), opts)};
  co_return co_await Run(std::move(req), token, opts);
}

asio::awaitable<Result<PreparedPtr>> Session::Prepare(std::string cql) {
  if (auto it = prepared_.find(cql); it != prepared_.end()) co_return it->second;
  auto conn = Pick(std::nullopt).first;
  if (!conn) co_return MakeError(ErrorCode::kUnavailable, "cql: no open connection to any host");
  Request req = PrepareRequest{cql};
  auto r = co_await conn->Send(std::move(req), options_.request_timeout);
  if (!r) co_return tl::unexpected(r.error());
  if (auto* e = std::get_if<ErrorResponse>(&r->body)) co_return tl::unexpected(ToError(*e));
  auto* rb = std::get_if<ResultBody>(&r->body);
  auto* prepared = rb ? std::get_if<PreparedResult>(rb) : nullptr;
  if (!prepared)
    co_return MakeError(ErrorCode::kInternal, "cql: PREPARE did not return a prepared result");
  auto stmt = std::make_shared<const PreparedStatement>(
      PreparedStatement{cql, prepared->id, prepared->pk_indexes, prepared->bind_columns});
  prepared_[cql] = stmt;
  query_of_id_[prepared->id] = cql;
  // Prepare it on every other host too (one connection each; ScyllaDB
  // shares a prepared statement across a node's shards), so the first
  // routed EXECUTE does not pay an UNPREPARED round trip. Failures here are
  // harmless: RunWithReprepare prepares lazily where it is still missing.
  std::vector<std::shared_ptr<Connection>> others;
  for (const auto& [addr, host] : hosts_) {
    for (const auto& c : host->conns) {
      if (c && c->is_open()) {
        if (c != conn) others.push_back(c);
        break;
      }
    }
  }
  for (auto& other : others) {
    if (other->peer() == conn->peer()) continue;
    Request again = PrepareRequest{cql};
    auto ignored = co_await other->Send(std::move(again), options_.request_timeout);
    (void)ignored;
  }
  co_return stmt;
}

asio::awaitable<Result<ResultBody>> Session::Execute(PreparedPtr stmt, std::vector<Value> values,
                                                     ExecOptions opts) {
  auto token = TokenOf(*stmt, values);
  Request req = ExecuteRequest{stmt->id, Params(std::move(values), opts)};
  co_return co_await Run(std::move(req), token, opts);
}

asio::awaitable<Result<ResultBody>> Session::Batch(std::vector<BatchItem> items, ExecOptions opts) {
  if (items.empty()) co_return MakeError(ErrorCode::kInvalidArgument, "cql: empty batch");
  auto token = TokenOf(*items.front().statement, items.front().values);
  BatchRequest b;
  b.type = BatchType::kUnlogged;
  b.consistency = opts.consistency.value_or(options_.consistency);
  b.timestamp = opts.timestamp;
  for (auto& item : items) {
    b.statements.push_back(BatchStatement{true, "", item.statement->id, std::move(item.values)});
  }
  Request req = std::move(b);
  co_return co_await Run(std::move(req), token, opts);
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [addr, host] : hosts_) {
    if (host->reconnect_timer) host->reconnect_timer->cancel();
    for (auto& c : host->conns) {
      if (c) c->Close("session closed");
    }
  }
}

bool Session::IsConnected() const {
  return std::any_of(hosts_.begin(), hosts_.end(),
                     [](const auto& h) { return h.second->OpenCount() > 0; });
}

std::vector<HostInfo> Session::Hosts() const {
  std::vector<HostInfo> out;
  for (const auto& [addr, h] : hosts_) {
    out.push_back(HostInfo{h->address, h->datacenter, h->rack, h->tokens.size(),
                           h->sharding ? h->sharding->nr_shards : 1u, h->OpenCount(), h->up});
  }
  return out;
}

}  // namespace ficus::cql
