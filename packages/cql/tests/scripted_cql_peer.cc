#include "scripted_cql_peer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <map>
#include <set>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"

namespace ficus::cql::testing {

namespace asio = boost::asio;
using asio::use_awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

Bytes InetBytes(const std::string& address) {
  error_code ec;
  auto a = asio::ip::make_address(address, ec);
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return Bytes(b.begin(), b.end());
  }
  auto b = a.to_v6().to_bytes();
  return Bytes(b.begin(), b.end());
}

Bytes TokensValue(const std::vector<std::int64_t>& tokens) {
  std::set<std::string> s;
  for (auto t : tokens) s.insert(std::to_string(t));
  return EncodeTextSet(s);
}

ColumnSpec Col(const std::string& table, const std::string& name, ColumnType t) {
  return ColumnSpec{"system", table, name, std::move(t)};
}

}  // namespace

struct ScriptedCqlPeer::Impl : std::enable_shared_from_this<ScriptedCqlPeer::Impl> {
  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    int id = 0;
    unsigned shard = 0;
    bool shard_aware = false;
    std::uint16_t client_port = 0;
    Bytes out;
    bool writing = false;
  };

  explicit Impl(Options o) : options(std::move(o)), acceptor(io), shard_acceptor(io) {}

  Options options;
  asio::io_context io;
  tcp::acceptor acceptor;
  tcp::acceptor shard_acceptor;
  mutable std::mutex mu;
  PeerHandler handler;
  std::map<std::string, std::pair<std::vector<ColumnSpec>, std::vector<std::uint16_t>>> statements;
  std::map<Bytes, std::string> prepared;  // this node's prepared ids
  bool refuse = false;
  std::vector<PeerRequest> log;
  std::vector<std::int16_t> answer_order;
  std::vector<std::chrono::steady_clock::time_point> accept_times;
  std::vector<std::shared_ptr<Conn>> conns;
  int next_conn = 0;
  unsigned round_robin_shard = 0;

  asio::awaitable<void> Accept(tcp::acceptor& a, bool shard_aware) {
    auto self = shared_from_this();
    for (;;) {
      error_code ec;
      tcp::socket s = co_await a.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      auto c = std::make_shared<Conn>(std::move(s));
      bool refused;
      {
        std::lock_guard lock(mu);
        accept_times.push_back(std::chrono::steady_clock::now());
        refused = refuse;
        c->id = ++next_conn;
        c->shard_aware = shard_aware;
        c->client_port = c->socket.remote_endpoint(ec).port();
        if (options.nr_shards > 0) {
          c->shard = shard_aware ? c->client_port % options.nr_shards
                                 : round_robin_shard++ % options.nr_shards;
        }
        if (!refused) conns.push_back(c);
      }
      if (refused) {
        c->socket.close(ec);
        continue;
      }
      asio::co_spawn(io, Serve(c), asio::detached);
    }
  }

  asio::awaitable<void> Serve(std::shared_ptr<Conn> c) {
    auto self = shared_from_this();
    std::array<std::uint8_t, kHeaderSize> header{};
    Bytes body;
    for (;;) {
      error_code ec;
      co_await asio::async_read(c->socket, asio::buffer(header),
                                asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      auto h = DecodeHeader(header, kRequestVersion);
      if (!h) break;
      body.resize(h->length);
      co_await asio::async_read(c->socket, asio::buffer(body),
                                asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      auto req = DecodeRequest(h->opcode, body);
      if (!req) {
        Write(c, EncodeResponse(ErrorResponse{0x000A, req.error().message}, h->stream), h->stream);
        continue;
      }
      PeerRequest pr{c->id, c->client_port, c->shard, c->shard_aware, h->stream, std::move(*req)};
      PeerHandler hd;
      {
        std::lock_guard lock(mu);
        log.push_back(pr);
        hd = handler;
      }
      std::optional<PeerReply> reply;
      if (hd) reply = hd(pr);
      if (!reply) reply = Default(pr);
      if (reply->close) {
        c->socket.close(ec);
        break;
      }
      if (!reply->response && !reply->raw) continue;
      Bytes bytes = reply->raw ? *reply->raw : EncodeResponse(*reply->response, pr.stream);
      if (reply->delay.count() == 0) {
        Write(c, std::move(bytes), pr.stream);
      } else {
        auto timer = std::make_shared<asio::steady_timer>(io, reply->delay);
        timer->async_wait(
            [self, c, timer, bytes = std::move(bytes), stream = pr.stream](error_code tec) mutable {
              if (!tec) self->Write(c, std::move(bytes), stream);
            });
      }
    }
    error_code ignored;
    c->socket.close(ignored);
    std::lock_guard lock(mu);
    std::erase(conns, c);
  }

  void Write(const std::shared_ptr<Conn>& c, Bytes bytes, std::int16_t stream) {
    if (!c->socket.is_open()) return;
    {
      std::lock_guard lock(mu);
      answer_order.push_back(stream);
    }
    c->out.insert(c->out.end(), bytes.begin(), bytes.end());
    if (c->writing) return;
    c->writing = true;
    asio::co_spawn(
        io,
        [self = shared_from_this(), c]() -> asio::awaitable<void> {
          while (!c->out.empty()) {
            Bytes chunk;
            chunk.swap(c->out);
            error_code ec;
            co_await asio::async_write(c->socket, asio::buffer(chunk),
                                       asio::redirect_error(use_awaitable, ec));
            if (ec) break;
          }
          c->writing = false;
        },
        asio::detached);
  }

  PeerReply Answer(Response r) {
    PeerReply reply;
    reply.response = std::move(r);
    return reply;
  }

  PeerReply Default(const PeerRequest& pr) {
    if (std::holds_alternative<OptionsRequest>(pr.request)) {
      SupportedResponse s;
      s.options["CQL_VERSION"] = {"3.0.0"};
      s.options["COMPRESSION"] = {};
      if (options.nr_shards > 0) {
        s.options["SCYLLA_SHARD"] = {std::to_string(pr.shard)};
        s.options["SCYLLA_NR_SHARDS"] = {std::to_string(options.nr_shards)};
        s.options["SCYLLA_PARTITIONER"] = {"org.apache.cassandra.dht.Murmur3Partitioner"};
        s.options["SCYLLA_SHARDING_ALGORITHM"] = {"biased-token-round-robin"};
        s.options["SCYLLA_SHARDING_IGNORE_MSB"] = {std::to_string(options.ignore_msb)};
        if (options.shard_aware_port) {
          s.options["SCYLLA_SHARD_AWARE_PORT"] = {
              std::to_string(shard_acceptor.local_endpoint().port())};
        }
      }
      return Answer(s);
    }
    if (std::holds_alternative<StartupRequest>(pr.request)) {
      if (!options.username.empty()) {
        return Answer(AuthenticateResponse{"org.apache.cassandra.auth.PasswordAuthenticator"});
      }
      return Answer(ReadyResponse{});
    }
    if (auto* a = std::get_if<AuthResponseRequest>(&pr.request)) {
      if (a->token && *a->token == PlainAuthToken(options.username, options.password)) {
        return Answer(AuthSuccessResponse{});
      }
      return Answer(ErrorResponse{0x0100, "Provided username and/or password are incorrect"});
    }
    if (auto* q = std::get_if<QueryRequest>(&pr.request)) {
      if (q->query.find("FROM system.local") != std::string::npos) {
        RowsResult rows;
        rows.metadata.column_count = 3;
        rows.metadata.columns = {
            Col("local", "data_center", {type_id::kVarchar}),
            Col("local", "rack", {type_id::kVarchar}),
            Col("local", "tokens", {type_id::kSet, "", {{type_id::kVarchar}}})};
        rows.rows.push_back(
            {EncodeText(options.dc), EncodeText("rack1"), TokensValue(options.tokens)});
        return Answer(ResultBody{rows});
      }
      if (q->query.find("FROM system.peers") != std::string::npos) {
        RowsResult rows;
        rows.metadata.column_count = 5;
        rows.metadata.columns = {
            Col("peers", "peer", {type_id::kInet}), Col("peers", "rpc_address", {type_id::kInet}),
            Col("peers", "data_center", {type_id::kVarchar}),
            Col("peers", "rack", {type_id::kVarchar}),
            Col("peers", "tokens", {type_id::kSet, "", {{type_id::kVarchar}}})};
        std::vector<PeerNode> peers;
        {
          std::lock_guard lock(mu);
          peers = options.peers;
        }
        for (const auto& p : peers) {
          rows.rows.push_back({InetBytes(p.address), InetBytes(p.address), EncodeText(p.dc),
                               EncodeText("rack1"), TokensValue(p.tokens)});
        }
        return Answer(ResultBody{rows});
      }
      return Answer(ResultBody{VoidResult{}});
    }
    if (auto* p = std::get_if<PrepareRequest>(&pr.request)) {
      PreparedResult r;
      r.id = EncodeBigint(Murmur3Hash(AsBytes(p->query)));
      r.flags = kMetaGlobalTableSpec;
      r.result_metadata.flags = kMetaNoMetadata;
      std::lock_guard lock(mu);
      if (auto it = statements.find(p->query); it != statements.end()) {
        r.bind_columns = it->second.first;
        r.pk_indexes = it->second.second;
      }
      prepared[r.id] = p->query;
      return Answer(ResultBody{r});
    }
    if (auto* e = std::get_if<ExecuteRequest>(&pr.request)) {
      std::lock_guard lock(mu);
      if (!prepared.count(e->id)) {
        ErrorResponse err{0x2500, "Prepared query with ID not found"};
        err.unprepared_id = e->id;
        return Answer(err);
      }
      return Answer(ResultBody{VoidResult{}});
    }
    if (auto* b = std::get_if<BatchRequest>(&pr.request)) {
      std::lock_guard lock(mu);
      for (const auto& s : b->statements) {
        if (s.prepared && !prepared.count(s.id)) {
          ErrorResponse err{0x2500, "Prepared query with ID not found"};
          err.unprepared_id = s.id;
          return Answer(err);
        }
      }
      return Answer(ResultBody{VoidResult{}});
    }
    return Answer(ReadyResponse{});  // REGISTER
  }
};

ScriptedCqlPeer::ScriptedCqlPeer(const Options& options)
    : options_(options), impl_(std::make_shared<Impl>(options)) {
  auto addr = asio::ip::make_address(options_.address);
  impl_->acceptor.open(addr.is_v4() ? tcp::v4() : tcp::v6());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(tcp::endpoint(addr, options_.port));
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->Accept(impl_->acceptor, false), asio::detached);
  if (options_.shard_aware_port) {
    impl_->shard_acceptor.open(addr.is_v4() ? tcp::v4() : tcp::v6());
    impl_->shard_acceptor.bind(tcp::endpoint(addr, 0));
    impl_->shard_acceptor.listen();
    shard_port_ = impl_->shard_acceptor.local_endpoint().port();
    asio::co_spawn(impl_->io, impl_->Accept(impl_->shard_acceptor, true), asio::detached);
  }
  thread_ = std::thread([impl = impl_] { impl->io.run(); });
}

ScriptedCqlPeer::~ScriptedCqlPeer() {
  impl_->io.stop();
  thread_.join();
}

void ScriptedCqlPeer::SetHandler(PeerHandler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

void ScriptedCqlPeer::DefineStatement(const std::string& query, std::vector<ColumnSpec> bind,
                                      std::vector<std::uint16_t> pk) {
  std::lock_guard lock(impl_->mu);
  impl_->statements[query] = {std::move(bind), std::move(pk)};
}

void ScriptedCqlPeer::SetPeers(std::vector<PeerNode> peers) {
  std::lock_guard lock(impl_->mu);
  impl_->options.peers = std::move(peers);
}

void ScriptedCqlPeer::SetRefuse(bool refuse) {
  std::lock_guard lock(impl_->mu);
  impl_->refuse = refuse;
}

void ScriptedCqlPeer::DropConnections() {
  std::promise<void> done;
  asio::post(impl_->io, [impl = impl_, &done] {
    std::vector<std::shared_ptr<Impl::Conn>> conns;
    {
      std::lock_guard lock(impl->mu);
      conns = impl->conns;
    }
    for (auto& c : conns) {
      error_code ec;
      c->socket.close(ec);
    }
    done.set_value();
  });
  done.get_future().wait();
}

void ScriptedCqlPeer::ForgetPrepared() {
  std::lock_guard lock(impl_->mu);
  impl_->prepared.clear();
}

std::vector<PeerRequest> ScriptedCqlPeer::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}

std::vector<PeerRequest> ScriptedCqlPeer::Requests(Opcode op) const {
  std::vector<PeerRequest> out;
  for (auto& r : Requests()) {
    if (RequestOpcode(r.request) == op) out.push_back(r);
  }
  return out;
}

std::vector<std::int16_t> ScriptedCqlPeer::AnswerOrder() const {
  std::lock_guard lock(impl_->mu);
  return impl_->answer_order;
}

std::vector<std::chrono::steady_clock::time_point> ScriptedCqlPeer::AcceptTimes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->accept_times;
}

std::size_t ScriptedCqlPeer::OpenConnections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.size();
}

}  // namespace ficus::cql::testing
