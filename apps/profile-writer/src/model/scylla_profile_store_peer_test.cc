// ScyllaProfileStore against ScriptedCqlPeer: a TEST DOUBLE that speaks the
// CQL v4 protocol over real TCP on 127.0.0.1 and answers as each test
// scripts it. It is not ScyllaDB and stores nothing: these tests check what
// the store sends (statements, stamps, consistency, batch shape), how it
// turns answers and failures into Results, readiness and overload. The
// store's data semantics: scylla_profile_store_engine_test.cc (the peer
// backed by an in-memory table model, in `make test`) and
// scylla_profile_store_live_test.cc (a real cluster).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"
#include "model/scylla_profile_store.h"
#include "scripted_cql_peer.h"

namespace ficus::writer {
namespace {

using cql::Bytes;
using cql::testing::PeerReply;
using cql::testing::PeerRequest;
using cql::testing::ScriptedCqlPeer;
using namespace std::chrono_literals;

const auto kTexts = ScyllaStatementTexts("ficus");

Bytes IdOf(ScyllaStatement s) {
  // ScriptedCqlPeer's prepared ids: murmur3 of the query text.
  return cql::EncodeBigint(cql::Murmur3Hash(cql::AsBytes(kTexts[static_cast<std::size_t>(s)])));
}

Uuid User(std::uint8_t b) {
  Uuid u{};
  u.fill(b);
  return u;
}

ApplyRequest Req(std::int64_t ts,
                 std::map<std::string, std::optional<std::string>, std::less<>> a) {
  ApplyRequest r;
  r.update.user = User(7);
  r.update.ts_us = ts;
  r.update.attributes = std::move(a);
  return r;
}

cql::ResultBody CurrentRows(const std::map<std::string, std::string>& attrs, std::int64_t updated) {
  cql::RowsResult r;
  r.metadata.column_count = 2;
  r.metadata.columns = {
      {"ficus",
       "profiles_current",
       "attributes",
       {cql::type_id::kMap, "", {{cql::type_id::kVarchar}, {cql::type_id::kVarchar}}}},
      {"ficus", "profiles_current", "updated_us", {cql::type_id::kBigint}}};
  r.rows.push_back({cql::EncodeTextMap(attrs), cql::EncodeBigint(updated)});
  return r;
}

PeerReply Answer(cql::Response r) {
  PeerReply p;
  p.response = std::move(r);
  return p;
}

const cql::ExecuteRequest* ExecuteOf(const PeerRequest& r, ScyllaStatement s) {
  auto* e = std::get_if<cql::ExecuteRequest>(&r.request);
  return e && e->id == IdOf(s) ? e : nullptr;
}

// Bind markers and partition-key indexes as a real node reports them in PREPARED.
void DefineStatements(ScriptedCqlPeer& peer) {
  const std::size_t markers[] = {6, 4, 4, 1, 7, 2, 2};
  const std::vector<std::uint16_t> pk[] = {{0}, {3}, {3}, {0}, {0, 1}, {0, 1}, {0}};
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    std::vector<cql::ColumnSpec> bind;
    for (std::size_t m = 0; m < markers[i]; ++m) {
      bind.push_back({"ficus", "t", "c" + std::to_string(m), {cql::type_id::kBlob}});
    }
    peer.DefineStatement(kTexts[i], bind, pk[i]);
  }
}

class ScyllaPeerTest : public ::testing::Test {
 protected:
  void SetUp() override { DefineStatements(peer_); }

  std::unique_ptr<ScyllaProfileStore> Open(std::string params = "") {
    auto url = ParseScyllaStoreUrl(
        fmt::format("scylla://127.0.0.1:{}/ficus?timeout_ms=300{}", peer_.port(), params));
    EXPECT_TRUE(url) << url.error().message;
    ScyllaStoreOptions o;
    o.url = *url;
    o.health_interval = 20ms;
    o.reconnect_base = 20ms;
    o.reconnect_max = 100ms;
    o.random_seed = 1;
    auto s = ScyllaProfileStore::Open(o);
    EXPECT_TRUE(s);
    return std::move(*s);
  }

  static Result<Profile> ApplySync(ScyllaProfileStore& store, ApplyRequest r) {
    std::promise<Result<Profile>> p;
    store.Apply(std::move(r), [&p](Result<Profile> res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  }

  ScriptedCqlPeer peer_{{}};
};

TEST_F(ScyllaPeerTest, ApplyIsOneStampedUnloggedBatchThenAReadOfTheMergedProfile) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (ExecuteOf(r, ScyllaStatement::kSelectCurrent)) {
      return Answer(CurrentRows({{"plan", "pro"}, {"old", "kept"}}, 5000));
    }
    return std::nullopt;
  });
  auto store = Open("&consistency=QUORUM");
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  auto r = ApplySync(*store, Req(5000, {{"plan", "pro"}, {"nick", std::nullopt}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->updated_us, 5000);
  EXPECT_EQ(VisibleAttributes(*r),
            (std::map<std::string, std::string, std::less<>>{{"old", "kept"}, {"plan", "pro"}}));

  auto batches = peer_.Requests(cql::Opcode::kBatch);
  ASSERT_EQ(batches.size(), 1u);
  const auto& b = std::get<cql::BatchRequest>(batches[0].request);
  EXPECT_EQ(b.type, cql::BatchType::kUnlogged);
  EXPECT_EQ(b.consistency, cql::Consistency::kQuorum);
  auto want = UpdateStatements(Req(5000, {{"plan", "pro"}, {"nick", std::nullopt}}).update);
  ASSERT_EQ(b.statements.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(b.statements[i].prepared);
    EXPECT_EQ(b.statements[i].id, IdOf(want[i].statement)) << i;
    EXPECT_EQ(b.statements[i].values, want[i].values) << i;
  }
  // The read comes after the batch, at the same consistency.
  auto all = peer_.Requests();
  std::size_t batch_at = 0, read_at = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (std::holds_alternative<cql::BatchRequest>(all[i].request)) batch_at = i;
    if (auto* e = ExecuteOf(all[i], ScyllaStatement::kSelectCurrent)) {
      read_at = i;
      EXPECT_EQ(e->params.consistency, cql::Consistency::kQuorum);
    }
  }
  EXPECT_GT(read_at, batch_at);
  // No idempotency key: no record written.
  for (const auto& q : all) EXPECT_EQ(ExecuteOf(q, ScyllaStatement::kInsertIdempotency), nullptr);
}

TEST_F(ScyllaPeerTest, BulkImportIsOneSinglePartitionBatchPerUserAndNoRead) {
  auto store = Open("&consistency=QUORUM");
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  auto U = [](std::uint8_t user, std::int64_t ts, const std::string& v) {
    ProfileUpdate u;
    u.user = User(user);
    u.ts_us = ts;
    u.attributes["k"] = v;
    return u;
  };
  std::vector<ProfileUpdate> ups = {U(1, 10, "a"), U(2, 11, "b"), U(1, 12, "c"), U(3, 13, "d")};
  std::promise<Result<std::vector<Status>>> p;
  store->ApplyBatch(ups, [&p](Result<std::vector<Status>> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  for (const auto& s : *r) EXPECT_TRUE(s);
  // Per user, the statements of its updates in order, in one batch.
  std::map<Uuid, std::vector<BoundStatement>> want;
  for (const auto& u : ups) {
    for (auto& b : UpdateStatements(u)) want[u.user].push_back(std::move(b));
  }
  auto batches = peer_.Requests(cql::Opcode::kBatch);
  ASSERT_EQ(batches.size(), 3u) << "one batch per user (partition)";
  std::set<Uuid> seen;
  for (const auto& q : batches) {
    const auto& b = std::get<cql::BatchRequest>(q.request);
    EXPECT_EQ(b.type, cql::BatchType::kUnlogged);
    EXPECT_EQ(b.consistency, cql::Consistency::kQuorum);
    bool matched = false;
    for (const auto& [user, stmts] : want) {
      if (b.statements.size() != stmts.size() || b.statements[0].values != stmts[0].values)
        continue;
      matched = true;
      seen.insert(user);
      for (std::size_t i = 0; i < stmts.size(); ++i) {
        EXPECT_EQ(b.statements[i].id, IdOf(stmts[i].statement)) << i;
        EXPECT_EQ(b.statements[i].values, stmts[i].values) << i;
      }
    }
    EXPECT_TRUE(matched) << "a batch mixes users or misses statements";
  }
  EXPECT_EQ(seen.size(), 3u);
  for (const auto& q : peer_.Requests()) {
    EXPECT_EQ(ExecuteOf(q, ScyllaStatement::kSelectCurrent), nullptr) << "a read after the import";
  }
}

// Token-aware bulk import: on a three-node ring (tokens -3e18 / 0 / 3e18,
// one node each), every user's single-partition batch is sent to the node
// owning the Murmur3 token of that user's partition key (the 16 uuid bytes),
// not to whichever coordinator: so the coordinator is a replica.
TEST(ScyllaRingTest, BulkImportSendsEachUsersBatchToTheNodeOwningItsToken) {
  constexpr std::int64_t kT = 3000000000000000000;
  ScriptedCqlPeer n1({.address = "127.0.0.1",
                      .tokens = {-kT},
                      .peers = {{"127.0.0.2", "dc1", {0}}, {"127.0.0.3", "dc1", {kT}}}});
  ScriptedCqlPeer n2({.address = "127.0.0.2", .port = n1.port(), .tokens = {0}});
  ScriptedCqlPeer n3({.address = "127.0.0.3", .port = n1.port(), .tokens = {kT}});
  for (auto* n : {&n1, &n2, &n3}) DefineStatements(*n);
  auto owner = [&](std::int64_t t) -> ScriptedCqlPeer* {
    if (t <= -kT) return &n1;
    if (t <= 0) return &n2;
    if (t <= kT) return &n3;
    return &n1;
  };
  auto url =
      ParseScyllaStoreUrl(fmt::format("scylla://127.0.0.1:{}/ficus?timeout_ms=300", n1.port()));
  ASSERT_TRUE(url) << url.error().message;
  ScyllaStoreOptions o;
  o.url = *url;
  o.random_seed = 1;
  auto store = ScyllaProfileStore::Open(o);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->WaitReady(5s)) << (*store)->LastError();
  std::vector<ProfileUpdate> ups;
  for (int i = 1; i <= 60; ++i) {
    ProfileUpdate u;
    u.user = User(static_cast<std::uint8_t>(i));
    u.ts_us = 1000 + i;
    u.attributes["k"] = "v";
    ups.push_back(u);
  }
  std::promise<Result<std::vector<Status>>> p;
  (*store)->ApplyBatch(ups, [&p](Result<std::vector<Status>> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  ASSERT_TRUE(r) << r.error().message;
  std::map<ScriptedCqlPeer*, std::size_t> want_count;
  for (const auto& u : ups) {
    const std::int64_t token = cql::Murmur3Token(cql::ByteView(u.user.data(), u.user.size()));
    ScriptedCqlPeer* want = owner(token);
    ++want_count[want];
    const auto first = UpdateStatements(u).front().values;
    int found = 0;
    for (auto* n : {&n1, &n2, &n3}) {
      for (const auto& q : n->Requests(cql::Opcode::kBatch)) {
        const auto& b = std::get<cql::BatchRequest>(q.request);
        if (b.statements[0].values != first) continue;
        ++found;
        EXPECT_EQ(n, want) << "user " << static_cast<int>(u.user[0]) << " token " << token
                           << ": batch sent to " << n->address() << ", owner " << want->address();
      }
    }
    EXPECT_EQ(found, 1) << "user " << static_cast<int>(u.user[0]);
  }
  EXPECT_EQ(want_count.size(), 3u) << "every node owns some of the users";
  for (auto* n : {&n1, &n2, &n3}) {
    EXPECT_EQ(n->Requests(cql::Opcode::kBatch).size(), want_count[n]) << n->address();
  }
}

TEST_F(ScyllaPeerTest, IdempotencyRecordHoldsTheMergedProfileRead) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (ExecuteOf(r, ScyllaStatement::kSelectCurrent)) return Answer(CurrentRows({{"a", "1"}}, 9));
    return std::nullopt;
  });
  auto store = Open();
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  ApplyRequest req = Req(9, {{"a", "1"}});
  req.idempotency = IdempotencyWrite{"k1", Fingerprint{7}, 1234};
  auto r = ApplySync(*store, req);
  ASSERT_TRUE(r) << r.error().message;
  std::vector<cql::ExecuteRequest> inserts;
  for (const auto& q : peer_.Requests()) {
    if (auto* e = ExecuteOf(q, ScyllaStatement::kInsertIdempotency)) inserts.push_back(*e);
  }
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_EQ(*inserts[0].params.values, InsertIdempotency(User(7), *req.idempotency, *r).values);
  EXPECT_EQ(inserts[0].params.consistency, cql::Consistency::kLocalQuorum);
}

TEST_F(ScyllaPeerTest, ServerErrorsMapToUnavailableOrInternalWithTheirMessage) {
  std::atomic<int> mode{0};
  peer_.SetHandler([&mode](const PeerRequest& r) -> std::optional<PeerReply> {
    if (!std::holds_alternative<cql::BatchRequest>(r.request)) return std::nullopt;
    cql::ErrorResponse e;
    if (mode == 0) {
      e.code = 0x1000;
      e.message = "Cannot achieve consistency level for cl LOCAL_QUORUM";
      e.consistency = cql::Consistency::kLocalQuorum;
      e.required = 2;
      e.alive_or_received = 1;
    } else {
      e.code = 0x1100;
      e.message = "Operation timed out";
      e.consistency = cql::Consistency::kLocalQuorum;
      e.required = 2;
      e.alive_or_received = 1;
      e.write_type = "UNLOGGED_BATCH";
    }
    return Answer(e);
  });
  auto store = Open();
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  auto unavailable = ApplySync(*store, Req(1, {{"a", "1"}}));
  ASSERT_FALSE(unavailable);
  EXPECT_EQ(unavailable.error().code, ErrorCode::kUnavailable);  // nothing applied: 503
  EXPECT_NE(unavailable.error().message.find("Cannot achieve consistency"), std::string::npos);
  mode = 1;
  auto timeout = ApplySync(*store, Req(1, {{"a", "1"}}));
  ASSERT_FALSE(timeout);
  EXPECT_EQ(timeout.error().code, ErrorCode::kInternal);
  EXPECT_NE(timeout.error().message.find("may or may not be applied"), std::string::npos)
      << timeout.error().message;
  EXPECT_NE(timeout.error().message.find("type=UNLOGGED_BATCH"), std::string::npos);
}

TEST_F(ScyllaPeerTest, NotReadyUntilTheClusterAnswersThenReadyFollowsConnectivity) {
  peer_.SetRefuse(true);
  auto store = Open();
  std::this_thread::sleep_for(150ms);
  EXPECT_FALSE(store->Ready());
  auto early = ApplySync(*store, Req(1, {{"a", "1"}}));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store->Get(User(1)).error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(store->LastError().empty());

  peer_.SetRefuse(false);
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  EXPECT_GE(store->OpenConnections(), 1u);

  peer_.SetRefuse(true);
  peer_.DropConnections();
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (store->Ready() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(store->Ready());                   // /readyz goes 503
  EXPECT_EQ(store->CqlCounters().host_down, 1u);  // ficus_writer_scylla_cql_host_down_total
  EXPECT_EQ(store->CqlCounters().host_up, 0u);
  peer_.SetRefuse(false);
  EXPECT_TRUE(store->WaitReady(5s)) << store->LastError();  // the session reconnects
  deadline = std::chrono::steady_clock::now() + 3s;
  while (store->CqlCounters().host_up == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(store->CqlCounters().host_up, 1u);
  EXPECT_EQ(store->CqlCounters().retries, 0u);  // nothing was in flight
}

TEST_F(ScyllaPeerTest, MissingKeyspaceKeepsTheStoreUnreadyWithAPointerToSchemaApply) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (!std::holds_alternative<cql::PrepareRequest>(r.request)) return std::nullopt;
    return Answer(cql::ErrorResponse{0x2200, "Keyspace ficus does not exist"});
  });
  auto store = Open();
  auto st = store->WaitReady(400ms);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("Keyspace ficus does not exist"), std::string::npos);
  EXPECT_NE(st.error().message.find("profile-writer schema apply"), std::string::npos);
}

TEST_F(ScyllaPeerTest, NodeThatForgotItsStatementsIsReprepared) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (ExecuteOf(r, ScyllaStatement::kSelectCurrent)) return Answer(CurrentRows({{"a", "1"}}, 1));
    return std::nullopt;
  });
  auto store = Open();
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  auto prepares_before = peer_.Requests(cql::Opcode::kPrepare).size();
  peer_.ForgetPrepared();  // e.g. the node restarted
  auto r = ApplySync(*store, Req(1, {{"a", "1"}}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(peer_.Requests(cql::Opcode::kPrepare).size(), prepares_before);
}

TEST_F(ScyllaPeerTest, OverMaxInFlightIsRefusedAtOnceAndCloseCompletesAcceptedUpdates) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (std::holds_alternative<cql::BatchRequest>(r.request)) return PeerReply{};  // never answer
    return std::nullopt;
  });
  auto store = Open("&max_in_flight=2&timeout_ms=1500");  // slow machine: keep both in flight
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  std::promise<Result<Profile>> p1, p2;
  store->Apply(Req(1, {{"a", "1"}}), [&](Result<Profile> r) { p1.set_value(std::move(r)); });
  store->Apply(Req(2, {{"a", "2"}}), [&](Result<Profile> r) { p2.set_value(std::move(r)); });
  auto third = ApplySync(*store, Req(3, {{"a", "3"}}));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(third.error().message.find("max_in_flight"), std::string::npos);
  EXPECT_EQ(store->InFlight(), 2u);
  ASSERT_TRUE(store->Close());  // waits for both: they time out (timeout_ms=1500)
  auto r1 = p1.get_future().get();
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, ErrorCode::kInternal);
  EXPECT_NE(r1.error().message.find("timed out"), std::string::npos) << r1.error().message;
  EXPECT_FALSE(p2.get_future().get());
  auto after = ApplySync(*store, Req(4, {{"a", "4"}}));
  EXPECT_EQ(after.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(store->Close());  // idempotent
}

TEST_F(ScyllaPeerTest, GetReadsCurrentRowAndUnknownUserIsNotFound) {
  peer_.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* e = ExecuteOf(r, ScyllaStatement::kSelectCurrent);
    if (!e) return std::nullopt;
    auto user = (*e->params.values)[0].bytes;
    if (user[0] == 7) return Answer(CurrentRows({{"x", "y"}}, 77));
    cql::RowsResult empty;
    empty.metadata.column_count = 2;
    empty.metadata.columns = std::get<cql::RowsResult>(CurrentRows({}, 0)).metadata.columns;
    return Answer(cql::ResultBody{empty});
  });
  auto store = Open();
  ASSERT_TRUE(store->WaitReady(5s)) << store->LastError();
  auto g = store->Get(User(7));
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->updated_us, 77);
  EXPECT_EQ(g->cells.at("x").value, "y");
  auto none = store->Get(User(8));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  // A blocking read from the store thread (inside `done`) fails instead of deadlocking.
  std::promise<ErrorCode> inner;
  store->Apply(Req(1, {{"a", "1"}}), [&](const Result<Profile>&) {
    auto r = store->Get(User(7));
    inner.set_value(r ? ErrorCode::kNotFound : r.error().code);
  });
  EXPECT_EQ(inner.get_future().get(), ErrorCode::kInternal);
}

TEST(ScyllaPeerAuth, PasswordAuthenticatorUsesUrlUserAndConfiguredPassword) {
  ScriptedCqlPeer peer({.username = "ficus", .password = "s3cret"});
  auto open = [&](std::string password) {
    ScyllaStoreOptions o;
    o.url = *ParseScyllaStoreUrl(fmt::format("scylla://ficus@127.0.0.1:{}/ficus", peer.port()));
    o.password = std::move(password);
    o.health_interval = 20ms;
    o.reconnect_base = 20ms;
    o.random_seed = 3;
    return std::move(*ScyllaProfileStore::Open(o));
  };
  auto good = open("s3cret");
  EXPECT_TRUE(good->WaitReady(5s)) << good->LastError();
  auto bad = open("wrong");
  auto st = bad->WaitReady(300ms);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("Provided username and/or password are incorrect"),
            std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace ficus::writer
