// Session state machine against ScriptedCqlPeer nodes (TEST DOUBLES speaking
// the protocol over real TCP on 127.0.0.x; not a database): topology,
// token-aware and DC-aware routing, Scylla shard-aware pools, re-prepare
// without loops, client timestamps, timeouts, reconnect with backoff.
#include "ficus/cql/session.h"

#include <gtest/gtest.h>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"
#include "run_coro.h"
#include "scripted_cql_peer.h"

namespace ficus::cql {
namespace {

namespace asio = boost::asio;
using testing::PeerReply;
using testing::PeerRequest;
using testing::RunCo;
using testing::ScriptedCqlPeer;
using namespace std::chrono_literals;

const std::string kInsert = "INSERT INTO ks.t (k, v) VALUES (?, ?)";
const std::string kOther = "UPDATE ks.t SET v = ? WHERE k = ?";

void Define(ScriptedCqlPeer& p) {
  std::vector<ColumnSpec> bind = {{"ks", "t", "k", {type_id::kVarchar}},
                                  {"ks", "t", "v", {type_id::kVarchar}}};
  p.DefineStatement(kInsert, bind, {0});
  p.DefineStatement(kOther, bind, {1});
}

std::shared_ptr<Session> MustConnect(asio::io_context& io, SessionOptions o) {
  o.random_seed = o.random_seed ? o.random_seed : 7;
  auto s = RunCo(io, Session::Connect(io.get_executor(), o));
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : nullptr;
}

PreparedPtr MustPrepare(asio::io_context& io, Session& s, const std::string& q) {
  auto p = RunCo(io, s.Prepare(q));
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : nullptr;
}

Result<ResultBody> Exec(asio::io_context& io, Session& s, PreparedPtr p, std::vector<Value> v,
                        ExecOptions o = {}) {
  return RunCo(io, s.Execute(std::move(p), std::move(v), std::move(o)));
}

std::vector<Value> KV(const std::string& k) {
  return {Value::Of(EncodeText(k)), Value::Of(EncodeText("v"))};
}

// Three nodes on 127.0.0.1..3, one port, tokens -3e18 / 0 / 3e18.
struct Ring {
  explicit Ring(std::string dc2 = "dc1")
      : n1({.address = "127.0.0.1",
            .tokens = {-3000000000000000000},
            .peers = {{"127.0.0.2", dc2, {0}}, {"127.0.0.3", "dc1", {3000000000000000000}}}}),
        n2({.address = "127.0.0.2", .port = n1.port(), .dc = dc2, .tokens = {0}}),
        n3({.address = "127.0.0.3", .port = n1.port(), .tokens = {3000000000000000000}}) {
    for (auto* n : {&n1, &n2, &n3}) Define(*n);
  }
  ScriptedCqlPeer n1, n2, n3;
  std::size_t Executes(const ScriptedCqlPeer& p) const {
    return p.Requests(Opcode::kExecute).size();
  }
};

// The owner on the ring: the first node token >= t, wrapping.
std::string Owner(std::int64_t t) {
  if (t <= -3000000000000000000) return "127.0.0.1";
  if (t <= 0) return "127.0.0.2";
  if (t <= 3000000000000000000) return "127.0.0.3";
  return "127.0.0.1";
}

TEST(CqlSession, ReadsTopologyAndRoutesEachKeyToItsTokenOwner) {
  Ring ring;
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(ring.n1.port())}});
  ASSERT_TRUE(s);
  auto hosts = s->Hosts();
  ASSERT_EQ(hosts.size(), 3u);
  for (const auto& h : hosts) {
    EXPECT_EQ(h.token_count, 1u);
    EXPECT_EQ(h.open_connections, 1u) << h.address << " " << h.datacenter;  // one per host
  }
  auto p = MustPrepare(io, *s, kInsert);
  ASSERT_TRUE(p);
  std::map<std::string, ScriptedCqlPeer*> by_addr = {
      {"127.0.0.1", &ring.n1}, {"127.0.0.2", &ring.n2}, {"127.0.0.3", &ring.n3}};
  std::map<std::string, int> hits;
  for (int i = 0; i < 60; ++i) {
    std::string key = "user-" + std::to_string(i);
    std::int64_t token = Murmur3Token(AsBytes(key));
    std::string want = Owner(token);
    EXPECT_EQ(s->RouteOf(token)->first, want);
    std::size_t before = ring.Executes(*by_addr[want]);
    auto r = Exec(io, *s, p, KV(key));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(ring.Executes(*by_addr[want]), before + 1) << key << " token " << token;
    hits[want]++;
  }
  EXPECT_EQ(hits.size(), 3u);  // every node owned some keys
  s->Close();
}

TEST(CqlSession, LocalDcKeepsRequestsInTheDataCentre) {
  Ring ring("dc2");  // 127.0.0.2 is remote
  asio::io_context io;
  auto s = MustConnect(
      io, {.contact_points = {"127.0.0.1:" + std::to_string(ring.n1.port())}, .local_dc = "dc1"});
  ASSERT_TRUE(s);
  auto p = MustPrepare(io, *s, kInsert);
  int remote_owned = 0;
  for (int i = 0; i < 40; ++i) {
    std::string key = "k" + std::to_string(i);
    std::int64_t token = Murmur3Token(AsBytes(key));
    if (Owner(token) == "127.0.0.2") {
      ++remote_owned;
      EXPECT_EQ(s->RouteOf(token)->first, "127.0.0.3");  // next dc1 node clockwise
    }
    ASSERT_TRUE(Exec(io, *s, p, KV(key)));
  }
  EXPECT_GT(remote_owned, 0);
  EXPECT_EQ(ring.Executes(ring.n2), 0u);
  s->Close();
}

TEST(CqlSession, ScyllaShardAwarePoolHasAConnectionPerShardAndRoutesByShard) {
  ScriptedCqlPeer node({.nr_shards = 4, .shard_aware_port = true, .tokens = {0}});
  Define(node);
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(node.port())}});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->Hosts().size(), 1u);
  EXPECT_EQ(s->Hosts()[0].nr_shards, 4u);
  EXPECT_EQ(s->Hosts()[0].open_connections, 4u);
  auto p = MustPrepare(io, *s, kInsert);
  std::set<unsigned> shards_hit;
  for (int i = 0; i < 40; ++i) {
    std::string key = "user-" + std::to_string(i);
    unsigned want = ScyllaShardOf(Murmur3Token(AsBytes(key)), 4, 12);
    ASSERT_TRUE(Exec(io, *s, p, KV(key)));
    auto last = node.Requests(Opcode::kExecute).back();
    EXPECT_EQ(last.shard, want) << key;
    // The control connection landed on some shard over the regular port and
    // is kept for it; the others were opened from ports p with p % 4 == shard.
    if (last.on_shard_aware_port) {
      EXPECT_EQ(last.client_port % 4, want);
    }
    shards_hit.insert(want);
  }
  EXPECT_EQ(shards_hit.size(), 4u);
  s->Close();
}

TEST(CqlSession, ClientTimestampAndConsistencyReachTheNode) {
  ScriptedCqlPeer node({});
  Define(node);
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(node.port())}});
  auto p = MustPrepare(io, *s, kInsert);
  ASSERT_TRUE(Exec(io, *s, p, KV("a"),
                   {.consistency = Consistency::kEachQuorum, .timestamp = 1700000000000001}));
  auto e = std::get<ExecuteRequest>(node.Requests(Opcode::kExecute).back().request);
  EXPECT_EQ(e.params.consistency, Consistency::kEachQuorum);
  EXPECT_EQ(e.params.timestamp, 1700000000000001);
  std::vector<BatchItem> items = {{p, KV("a")}, {p, KV("b")}};
  auto b = RunCo(io, s->Batch(std::move(items), {.timestamp = 42}));
  ASSERT_TRUE(b) << b.error().message;
  auto batch = std::get<BatchRequest>(node.Requests(Opcode::kBatch).back().request);
  EXPECT_EQ(batch.type, BatchType::kUnlogged);
  EXPECT_EQ(batch.timestamp, 42);
  EXPECT_EQ(batch.consistency, Consistency::kLocalQuorum);  // session default
  s->Close();
}

TEST(CqlSession, UnpreparedIsReprepareOncePerStatementNeverInALoop) {
  ScriptedCqlPeer node({});
  Define(node);
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(node.port())}});
  auto ins = MustPrepare(io, *s, kInsert);
  auto upd = MustPrepare(io, *s, kOther);
  // The node restarted: a batch of two unknown statements gets each
  // re-prepared once (the node names one unknown id per answer), then runs.
  node.ForgetPrepared();
  std::size_t prepares = node.Requests(Opcode::kPrepare).size();
  std::vector<BatchItem> items = {{ins, KV("a")}, {upd, KV("b")}};
  auto b = RunCo(io, s->Batch(std::move(items), {}));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(node.Requests(Opcode::kPrepare).size(), prepares + 2);
  EXPECT_EQ(node.Requests(Opcode::kBatch).size(), 3u);
  // A node that keeps answering UNPREPARED: one re-prepare, then the error.
  node.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* e = std::get_if<ExecuteRequest>(&r.request);
    if (!e) return std::nullopt;
    ErrorResponse err{0x2500, "Prepared query with ID not found"};
    err.unprepared_id = e->id;
    PeerReply reply;
    reply.response = err;
    return reply;
  });
  prepares = node.Requests(Opcode::kPrepare).size();
  auto r = Exec(io, *s, ins, KV("c"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Unprepared"), std::string::npos) << r.error().message;
  EXPECT_EQ(node.Requests(Opcode::kPrepare).size(), prepares + 1);
  s->Close();
}

TEST(CqlSession, PerRequestTimeoutIsKTimeout) {
  ScriptedCqlPeer node({});
  Define(node);
  node.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (std::holds_alternative<ExecuteRequest>(r.request)) return PeerReply{};  // withheld
    return std::nullopt;
  });
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(node.port())}});
  auto p = MustPrepare(io, *s, kInsert);
  auto start = std::chrono::steady_clock::now();
  auto r = Exec(io, *s, p, KV("a"), {.timeout = 80ms});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_GE(took, 80ms);
  EXPECT_LT(took, 1s);
  s->Close();
}

TEST(CqlSession, ReconnectsWithGrowingJitteredBackoffThenRecovers) {
  ScriptedCqlPeer node({});
  Define(node);
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(node.port())},
                            .reconnect_base = 20ms,
                            .reconnect_max = 160ms});
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->IsConnected());
  node.SetRefuse(true);
  node.DropConnections();
  testing::Pump(io, 900ms);
  EXPECT_FALSE(s->IsConnected());
  auto accepts = node.AcceptTimes();
  ASSERT_GE(accepts.size(), 5u);
  // Attempts after the drop: gaps grow (about doubling up to the cap) and
  // never come faster than half the base delay - no reconnect storm.
  std::vector<double> gaps_ms;
  for (std::size_t i = accepts.size() - 4; i < accepts.size(); ++i) {
    gaps_ms.push_back(
        std::chrono::duration<double, std::milli>(accepts[i] - accepts[i - 1]).count());
  }
  for (double g : gaps_ms) {
    EXPECT_GE(g, 9.0);
    EXPECT_LE(g, 160.0 + 400.0);  // the cap, plus scheduling delay on a busy machine
  }
  EXPECT_LE(s->reconnect_attempts(), 20u);  // ~900 ms / (>= 10 ms growing to 80..160 ms)
  EXPECT_GE(s->reconnect_attempts(), 3u);
  node.SetRefuse(false);
  testing::Pump(io, 400ms);
  EXPECT_TRUE(s->IsConnected());
  auto p = MustPrepare(io, *s, kInsert);
  EXPECT_TRUE(Exec(io, *s, p, KV("after")));
  s->Close();
}

TEST(CqlSession, HostThatLeftTheClusterIsDroppedAndNotRetried) {
  ScriptedCqlPeer n1(
      {.address = "127.0.0.1", .tokens = {-100}, .peers = {{"127.0.0.2", "dc1", {100}}}});
  ScriptedCqlPeer n2({.address = "127.0.0.2", .port = n1.port(), .tokens = {100}});
  asio::io_context io;
  auto s = MustConnect(io, {.contact_points = {"127.0.0.1:" + std::to_string(n1.port())},
                            .reconnect_base = 10ms,
                            .reconnect_max = 20ms});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->Hosts().size(), 2u);
  // Node 2 is decommissioned: it goes away and node 1 stops listing it.
  n1.SetPeers({});
  n2.SetRefuse(true);
  n2.DropConnections();
  testing::Pump(io, 100ms);
  ASSERT_TRUE(RunCo(io, s->RefreshTopology()));
  EXPECT_EQ(s->Hosts().size(), 1u);
  testing::Pump(io, 100ms);
  std::size_t attempts = s->reconnect_attempts();
  std::size_t accepts = n2.AcceptTimes().size();
  testing::Pump(io, 300ms);  // at 10..20 ms backoff a live loop would try ~15 more times
  EXPECT_EQ(s->reconnect_attempts(), attempts);
  EXPECT_EQ(n2.AcceptTimes().size(), accepts);
  s->Close();
}

TEST(CqlSession, NoReachableContactPointIsUnavailableWithTheLastError) {
  ScriptedCqlPeer node({});
  std::uint16_t port = node.port();
  node.SetRefuse(true);
  asio::io_context io;
  auto s = RunCo(io, Session::Connect(io.get_executor(),
                                      {.contact_points = {"127.0.0.1:" + std::to_string(port)}}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("no contact point reachable"), std::string::npos);
  auto bad = RunCo(io, Session::Connect(io.get_executor(), {.contact_points = {"h:notaport"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "contact point 'h:notaport': bad port");
}

}  // namespace
}  // namespace ficus::cql
