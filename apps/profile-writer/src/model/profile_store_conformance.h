// ProfileStoreConformance: the ProfileStore contract (profile_store.h) as
// one test suite, instantiated for every store, so a new backend gets the
// contract for free and the stores cannot drift apart:
//
//   INSTANTIATE_TEST_SUITE_P(RocksDb, ProfileStoreConformance,
//                            ::testing::Values(StoreUnderTest{"rocksdb", open}), StoreName);
//
// `open()` returns a fresh, empty-enough store (each case uses its own random
// users, so a shared keyspace works), or nullptr to skip the whole suite
// (e.g. the live ScyllaDB suite without CQL_CONTACT_POINTS). Store-specific
// behaviour (RocksDB's reopen and compaction, ScyllaDB's TTLs, history row
// identity) stays in each store's own test file.
//
// Instances (every store; all but the live one run in `make test`):
//   RocksDb/...          rocksdb_profile_store_test.cc
//   ScyllaOverEngine/... scylla_profile_store_engine_test.cc: ScyllaProfileStore
//                        over ScriptedCqlPeer backed by CqlTableEngine
//                        (packages/cql/tests), an in-memory test model of the
//                        store's tables with Cassandra's per-cell rules - one
//                        node (scylla_peer) and a three-node ring sharing one
//                        engine (scylla_peer_ring3)
//   ScyllaLive/...       scylla_profile_store_live_test.cc, a real ScyllaDB or
//                        Cassandra cluster (CQL_CONTACT_POINTS; skipped without)
// The engine models what the store relies on (cell LWW, tie rule, TTLs), not
// replication or consistency levels: the live instance remains the proof
// against a real database.
//
// Preconditions every case keeps: updates carry 1..64 attributes (the api's
// check 15). Outside them the stores differ: an update with NO attributes
// creates the profile and advances updated_us in RocksDB, while the
// ScyllaDB store writes only its history row (Apply of a new user fails
// kInternal "update applied, but the merged profile: no profile").
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/profile_store.h"

namespace ficus::writer::conformance {

struct StoreUnderTest {
  std::string name;
  std::function<std::unique_ptr<ProfileStore>()> open;
};

inline void PrintTo(const StoreUnderTest& s, std::ostream* os) {
  *os << s.name;
}

inline std::string StoreName(const ::testing::TestParamInfo<StoreUnderTest>& info) {
  return info.param.name;
}

class ProfileStoreConformance : public ::testing::TestWithParam<StoreUnderTest> {
 protected:
  using Attrs = std::map<std::string, std::string, std::less<>>;
  using Changes = std::map<std::string, std::optional<std::string>, std::less<>>;

  void SetUp() override {
    store_ = GetParam().open();
    if (!store_) GTEST_SKIP() << GetParam().name << ": no store to test against";
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
  }

  static Uuid NewUser() {
    static std::mt19937_64 rng(std::random_device{}());
    Uuid u{};
    for (auto& b : u) b = static_cast<std::uint8_t>(rng());
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | 0x40);  // version 4
    return u;
  }
  static ApplyRequest Req(Uuid user, std::int64_t ts, Changes attrs) {
    ApplyRequest r;
    r.update.user = user;
    r.update.ts_us = ts;
    r.update.attributes = std::move(attrs);
    return r;
  }
  Result<Profile> ApplySync(ApplyRequest r) {
    std::promise<Result<Profile>> p;
    store_->Apply(std::move(r), [&p](Result<Profile> res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  }
  Result<std::vector<Status>> ApplyBatchSync(std::vector<ProfileUpdate> updates) {
    std::promise<Result<std::vector<Status>>> p;
    store_->ApplyBatch(std::move(updates),
                       [&p](Result<std::vector<Status>> res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  }

  std::unique_ptr<ProfileStore> store_;
};

TEST_P(ProfileStoreConformance, MergeReturnsMergedProfileAndGetSeesIt) {
  const Uuid u = NewUser();
  ASSERT_TRUE(ApplySync(Req(u, 100, {{"plan", "pro"}, {"nick", "bob"}})));
  auto b = ApplySync(Req(u, 200, {{"locale", "zh-CN"}}));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(VisibleAttributes(*b), (Attrs{{"locale", "zh-CN"}, {"nick", "bob"}, {"plan", "pro"}}));
  EXPECT_EQ(b->updated_us, 200);
  auto g = store_->Get(u);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(*g, *b);
}

TEST_P(ProfileStoreConformance, UnknownUserIsNotFound) {
  auto g = store_->Get(NewUser());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kNotFound);
}

TEST_P(ProfileStoreConformance, DeleteKeepsATombstoneAndTheProfileExists) {
  const Uuid u = NewUser();
  ASSERT_TRUE(ApplySync(Req(u, 100, {{"a", "1"}})));
  auto d = ApplySync(Req(u, 200, {{"a", std::nullopt}}));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(VisibleAttributes(*d).empty());
  auto g = store_->Get(u);
  ASSERT_TRUE(g);  // exists even with every key deleted
  EXPECT_TRUE(VisibleAttributes(*g).empty());
  // An older write arriving late cannot bring the key back.
  auto late = ApplySync(Req(u, 150, {{"a", "late"}}));
  ASSERT_TRUE(late);
  EXPECT_TRUE(VisibleAttributes(*late).empty());
  EXPECT_EQ(late->updated_us, 200);
}

TEST_P(ProfileStoreConformance, LastWriteWinsWithOutOfOrderTimestamps) {
  const Uuid u = NewUser();
  ASSERT_TRUE(ApplySync(Req(u, 300, {{"a", "newest"}})));
  ASSERT_TRUE(ApplySync(Req(u, 100, {{"a", "oldest"}, {"b", "only"}})));
  ASSERT_TRUE(ApplySync(Req(u, 200, {{"a", "middle"}, {"b", std::nullopt}})));
  auto g = store_->Get(u);
  ASSERT_TRUE(g);
  EXPECT_EQ(VisibleAttributes(*g), (Attrs{{"a", "newest"}}));
  EXPECT_EQ(g->updated_us, 300);
}

TEST_P(ProfileStoreConformance, TiesResolveTombstoneThenGreaterValue) {
  const Uuid u = NewUser();
  ASSERT_TRUE(ApplySync(Req(u, 300, {{"a", "x"}, {"b", "m"}})));
  ASSERT_TRUE(ApplySync(Req(u, 300, {{"a", std::nullopt}, {"b", "z"}})));
  auto r = ApplySync(Req(u, 300, {{"b", "c"}, {"a", "zzz"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(VisibleAttributes(*r), (Attrs{{"b", "z"}}));
  EXPECT_EQ(VisibleAttributes(*store_->Get(u)), (Attrs{{"b", "z"}}));
}

// "Greater" is bytewise and UNSIGNED (memcmp order, as ScyllaDB and current
// Cassandra compare cell values; older Cassandra 3.0 sources compared signed
// bytes, see packages/cql/tests/cql_cell.h): a UTF-8 "é" (0xC3 0xA9) beats
// "z", and the empty string loses to any other value.
TEST_P(ProfileStoreConformance, TiesCompareValuesAsUnsignedBytes) {
  const Uuid u = NewUser();
  ASSERT_TRUE(ApplySync(Req(u, 300, {{"a", "z"}, {"b", "a"}, {"c", ""}})));
  auto r = ApplySync(Req(u, 300, {{"a", "\xC3\xA9"}, {"b", ""}, {"c", ""}}));
  ASSERT_TRUE(r) << r.error().message;
  const Attrs want{{"a", "\xC3\xA9"}, {"b", "a"}, {"c", ""}};
  EXPECT_EQ(VisibleAttributes(*r), want);
  EXPECT_EQ(VisibleAttributes(*store_->Get(u)), want);
}

TEST_P(ProfileStoreConformance, IdempotencyRecordIsStoredWithTheUpdate) {
  const Uuid u = NewUser();
  ApplyRequest r = Req(u, 100, {{"n", "1"}});
  r.idempotency = IdempotencyWrite{"key-1", Fingerprint{1, 2, 3}, 1700000000000000};
  auto merged = ApplySync(std::move(r));
  ASSERT_TRUE(merged) << merged.error().message;
  auto rec = store_->GetIdempotency(u, "key-1");
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->profile, *merged);
  EXPECT_EQ((*rec)->fingerprint, (Fingerprint{1, 2, 3}));
  EXPECT_EQ((*rec)->created_us, 1700000000000000);
  EXPECT_EQ((*rec)->user, u);
  auto none = store_->GetIdempotency(NewUser(), "key-1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto other_key = store_->GetIdempotency(u, "key-2");
  ASSERT_TRUE(other_key);
  EXPECT_FALSE(other_key->has_value());
}

// A bulk import follows exactly Apply's rules: per-key LWW against what is
// stored and within the batch (several updates of one user, any order).
TEST_P(ProfileStoreConformance, ApplyBatchKeepsApplysMergeRules) {
  const Uuid a = NewUser(), b = NewUser();
  ASSERT_TRUE(ApplySync(Req(a, 500, {{"k", "stored-newer"}, {"x", "old"}})));
  std::vector<ProfileUpdate> batch;
  for (auto& [user, ts, changes] : std::vector<std::tuple<Uuid, std::int64_t, Changes>>{
           {a, 400, {{"k", "batch-older"}, {"x", "newer"}}},
           {b, 300, {{"k", "b3"}}},
           {b, 100, {{"k", "b1"}, {"y", "only"}}},
           {b, 200, {{"y", std::nullopt}}}}) {
    batch.push_back(Req(user, ts, changes).update);
  }
  auto st = ApplyBatchSync(std::move(batch));
  ASSERT_TRUE(st) << st.error().message;
  ASSERT_EQ(st->size(), 4u);
  for (const auto& s : *st) EXPECT_TRUE(s) << s.error().message;
  EXPECT_EQ(VisibleAttributes(*store_->Get(a)), (Attrs{{"k", "stored-newer"}, {"x", "old"}}));
  EXPECT_EQ(VisibleAttributes(*store_->Get(b)), (Attrs{{"k", "b3"}}));
  EXPECT_EQ(store_->Get(b)->updated_us, 300);
}

TEST_P(ProfileStoreConformance, ConcurrentUpdatesConvergeToTheLwwState) {
  constexpr int kThreads = 4, kPerThread = 100;
  const std::vector<Uuid> users = {NewUser(), NewUser(), NewUser(), NewUser()};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::int64_t ts = 1000 + i * kThreads + t;
        if (ApplySync(Req(users[i % 4], ts, {{"k", std::to_string(ts)}}))) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  for (int u = 0; u < 4; ++u) {
    int last_i = kPerThread - 1;
    while (last_i % 4 != u) --last_i;
    const std::int64_t want = 1000 + last_i * kThreads + kThreads - 1;
    auto g = store_->Get(users[u]);
    ASSERT_TRUE(g);
    EXPECT_EQ(*g->cells.at("k").value, std::to_string(want));
    EXPECT_EQ(g->updated_us, want);
  }
}

TEST_P(ProfileStoreConformance, AClosedStoreRejectsWritesAsUnavailable) {
  ASSERT_TRUE(store_->Close());
  EXPECT_FALSE(store_->Ready());
  auto r = ApplySync(Req(NewUser(), 1, {{"a", "1"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  std::vector<ProfileUpdate> batch{Req(NewUser(), 1, {{"a", "1"}}).update};
  auto b = ApplyBatchSync(std::move(batch));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kUnavailable);
}

}  // namespace ficus::writer::conformance
