// ScyllaProfileStore's DATA contract in `make test`, without a cluster: the
// store talks CQL v4 over real TCP on 127.0.0.x to ScriptedCqlPeer nodes
// whose answers come from CqlTableEngine (packages/cql/tests), an in-memory
// TEST MODEL of the store's tables (packages/schema/cql, loaded from the
// same embedded files `schema apply` runs) with Cassandra's per-cell rules:
// last write wins by write timestamp, at equal timestamps a tombstone beats
// a value and then the greater value wins, TTL expiry. It is not ScyllaDB:
// consistency levels, replication, paging and compaction are not modelled.
// The same contract against a real cluster: scylla_profile_store_live_test.
//
// Instances of ProfileStoreConformance (profile_store_conformance.h):
//   scylla_peer        one node
//   scylla_peer_ring3  three nodes on 127.0.0.1..3 sharing one engine (the
//                      replicas always agree), so token-aware routing spreads
//                      the writes over every node
// plus what is the ScyllaDB store's own: history rows and idempotency TTLs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "cql_table_engine.h"
#include "model/profile_store_conformance.h"
#include "model/scylla_profile_store.h"
#include "model/scylla_schema.h"
#include "scripted_cql_peer.h"

namespace ficus::writer {
namespace {

using cql::testing::CqlTableEngine;
using cql::testing::ScriptedCqlPeer;
using namespace std::chrono_literals;
using Attrs = std::map<std::string, std::string, std::less<>>;

constexpr const char* kKeyspace = "ficus";

// N peer nodes (one port, 127.0.0.1..N) answering from one engine that holds
// the rendered packages/schema/cql.
class EngineCluster {
 public:
  explicit EngineCluster(int nodes) {
    auto repl = ParseReplication("SimpleStrategy:1");
    auto ddl = RenderCqlSchema(EmbeddedCqlSchema(), {kKeyspace, *repl, 0});
    if (!ddl) {
      ADD_FAILURE() << ddl.error().message;
      return;
    }
    for (const auto& s : *ddl) {
      auto r = engine_.Execute(s, {});
      if (!r) ADD_FAILURE() << "schema statement failed on the engine: " << r.error().message;
    }
    const std::int64_t step = std::numeric_limits<std::int64_t>::max() / nodes * 2;
    auto token = [&](int i) { return std::numeric_limits<std::int64_t>::min() / 2 + step * i / 2; };
    ScriptedCqlPeer::Options first;
    first.tokens = {token(0)};
    for (int i = 1; i < nodes; ++i) {
      first.peers.push_back({fmt::format("127.0.0.{}", i + 1), "dc1", {token(i)}});
    }
    nodes_.push_back(std::make_unique<ScriptedCqlPeer>(first));
    for (int i = 1; i < nodes; ++i) {
      ScriptedCqlPeer::Options o;
      o.address = fmt::format("127.0.0.{}", i + 1);
      o.port = nodes_[0]->port();
      o.tokens = {token(i)};
      nodes_.push_back(std::make_unique<ScriptedCqlPeer>(o));
    }
    for (auto& n : nodes_) n->SetHandler(engine_.Handler());
  }

  std::unique_ptr<ScyllaProfileStore> Open() {
    std::string points;
    for (auto& n : nodes_) {
      points += fmt::format("{}{}:{}", points.empty() ? "" : ",", n->address(), n->port());
    }
    auto url = ParseScyllaStoreUrl(
        fmt::format("scylla://{}/{}?timeout_ms=2000&consistency=QUORUM", points, kKeyspace));
    if (!url) {
      ADD_FAILURE() << url.error().message;
      return nullptr;
    }
    ScyllaStoreOptions o;
    o.url = *url;
    o.health_interval = 20ms;
    o.reconnect_base = 20ms;
    o.reconnect_max = 100ms;
    auto s = ScyllaProfileStore::Open(o);
    if (!s) {
      ADD_FAILURE() << s.error().message;
      return nullptr;
    }
    auto ready = (*s)->WaitReady(10s);
    if (!ready) {
      ADD_FAILURE() << ready.error().message;
      return nullptr;
    }
    return std::move(*s);
  }

  CqlTableEngine& engine() { return engine_; }
  ScriptedCqlPeer& node(std::size_t i) { return *nodes_[i]; }
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }

 private:
  CqlTableEngine engine_;  // outlives the nodes (declared first, destroyed last)
  std::vector<std::unique_ptr<ScriptedCqlPeer>> nodes_;
};

EngineCluster& SingleNode() {
  static EngineCluster c(1);
  return c;
}
EngineCluster& Ring3() {
  static EngineCluster c(3);
  return c;
}

using conformance::ProfileStoreConformance;
using conformance::StoreUnderTest;
INSTANTIATE_TEST_SUITE_P(
    ScyllaOverEngine, ProfileStoreConformance,
    ::testing::Values(StoreUnderTest{"scylla_peer",
                                     [] {
                                       return std::unique_ptr<ProfileStore>(SingleNode().Open());
                                     }},
                      StoreUnderTest{"scylla_peer_ring3",
                                     [] { return std::unique_ptr<ProfileStore>(Ring3().Open()); }}),
    conformance::StoreName);

ApplyRequest Req(Uuid user, std::int64_t ts,
                 std::map<std::string, std::optional<std::string>, std::less<>> attrs) {
  ApplyRequest r;
  r.update.user = user;
  r.update.ts_us = ts;
  r.update.attributes = std::move(attrs);
  return r;
}

Uuid User(std::uint8_t seed) {
  Uuid u{};
  std::uint8_t b = seed;
  for (auto& byte : u) {
    byte = b;
    b = static_cast<std::uint8_t>(b + 7U);
  }
  return u;
}

Result<Profile> ApplySync(ProfileStore& store, ApplyRequest r) {
  std::promise<Result<Profile>> p;
  store.Apply(std::move(r), [&p](Result<Profile> res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

TEST(ScyllaEngineTest, HistoryNewestFirstEqualStampsKeptApartReplaysCollapse) {
  EngineCluster cluster(1);
  auto store = cluster.Open();
  ASSERT_TRUE(store);
  const Uuid u = User(1);
  ASSERT_TRUE(ApplySync(*store, Req(u, 200, {{"a", "2"}})));
  ASSERT_TRUE(ApplySync(*store, Req(u, 100, {{"a", "1"}})));
  ASSERT_TRUE(ApplySync(*store, Req(u, 300, {{"a", "3"}})));
  ASSERT_TRUE(ApplySync(*store, Req(u, 300, {{"b", "x"}})));
  ASSERT_TRUE(ApplySync(*store, Req(u, 300, {{"b", "x"}})));  // a replay of the same update
  ASSERT_TRUE(ApplySync(*store, Req(User(2), 999, {{"other", "user"}})));
  auto h = store->History(u, 100);
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].ts_us, 300);
  EXPECT_EQ((*h)[1].ts_us, 300);
  EXPECT_NE((*h)[0].update_id, (*h)[1].update_id);
  EXPECT_EQ((*h)[2].ts_us, 200);
  EXPECT_EQ((*h)[3].ts_us, 100);
  EXPECT_EQ(*(*h)[3].update.cells.at("a").value, "1");
  ASSERT_TRUE(ApplySync(*store, Req(u, 400, {{"a", std::nullopt}})));
  auto h2 = store->History(u, 1);
  ASSERT_TRUE(h2);
  ASSERT_EQ(h2->size(), 1u);
  EXPECT_EQ((*h2)[0].update.cells.at("a"), (Cell{400, std::nullopt}));  // `deleted` set
  EXPECT_FALSE((*h2)[0].update.cells.count("b"));
}

TEST(ScyllaEngineTest, IdempotencyRecordsExpireAfter24Hours) {
  EngineCluster cluster(1);
  auto store = cluster.Open();
  ASSERT_TRUE(store);
  const Uuid u = User(3);
  ApplyRequest r = Req(u, 100, {{"n", "1"}});
  r.idempotency = IdempotencyWrite{"ttl-key", Fingerprint{}, 1};
  ASSERT_TRUE(ApplySync(*store, std::move(r)));
  cluster.engine().AdvanceClock(std::chrono::seconds(86400 - 60));
  auto rec = store->GetIdempotency(u, "ttl-key");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_TRUE(rec->has_value()) << "still there a minute before 24 h";
  cluster.engine().AdvanceClock(61s);
  rec = store->GetIdempotency(u, "ttl-key");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_FALSE(rec->has_value()) << "expired after 24 h (USING TTL 86400)";
  auto g = store->Get(u);
  ASSERT_TRUE(g) << "the profile itself has no TTL";
  EXPECT_EQ(VisibleAttributes(*g), (Attrs{{"n", "1"}}));
}

TEST(ScyllaEngineTest, TheRingSpreadsWritesOverEveryNode) {
  auto& ring = Ring3();
  std::vector<std::size_t> before;
  for (std::size_t i = 0; i < ring.size(); ++i) {
    before.push_back(ring.node(i).Requests(cql::Opcode::kBatch).size());
  }
  auto store = ring.Open();
  ASSERT_TRUE(store);
  for (std::uint8_t i = 0; i < 30; ++i) {
    ASSERT_TRUE(ApplySync(*store, Req(User(100 + i), 10, {{"k", std::to_string(i)}})));
  }
  for (std::size_t i = 0; i < ring.size(); ++i) {
    EXPECT_GT(ring.node(i).Requests(cql::Opcode::kBatch).size(), before[i]) << "node " << i;
  }
  for (std::uint8_t i = 0; i < 30; ++i) {
    EXPECT_EQ(VisibleAttributes(*store->Get(User(100 + i))), (Attrs{{"k", std::to_string(i)}}));
  }
}

}  // namespace
}  // namespace ficus::writer
