#include "model/rocksdb_profile_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "domain/merge.h"
#include "ficus/testing/temp_dir.h"
#include "model/profile_store_conformance.h"
#include "model/rocksdb_codec.h"
#include "model/rocksdb_lww_merge.h"

namespace ficus::writer {
namespace {

namespace fs = std::filesystem;
using conformance::ProfileStoreConformance;

class TempDir : public ficus::testing::TempDir {
 public:
  TempDir() : ficus::testing::TempDir("ficus-writer-store") {}
};

Uuid U(std::uint8_t b) {
  Uuid u{};
  u.fill(b);
  return u;
}

ApplyRequest Req(Uuid user, std::int64_t ts,
                 std::map<std::string, std::optional<std::string>, std::less<>> attrs) {
  ApplyRequest r;
  r.update.user = user;
  r.update.ts_us = ts;
  r.update.attributes = std::move(attrs);
  return r;
}

// The ProfileStore contract, shared with every store (profile_store_conformance.h).
struct ConformanceDirs {
  std::vector<std::unique_ptr<TempDir>> dirs;
  ManualClock clock{FromUnixMicros(1700000000000000)};
};
ConformanceDirs& Dirs() {
  static ConformanceDirs d;
  return d;
}
INSTANTIATE_TEST_SUITE_P(RocksDb, ProfileStoreConformance,
                         ::testing::Values(conformance::StoreUnderTest{
                             "rocksdb",
                             []() -> std::unique_ptr<ProfileStore> {
                               auto& d = Dirs();
                               d.dirs.push_back(std::make_unique<TempDir>());
                               RocksDbStoreOptions o;
                               o.path = d.dirs.back()->path();
                               o.clock = &d.clock;
                               auto s = RocksDbProfileStore::Open(o);
                               if (!s) {
                                 ADD_FAILURE() << s.error().ToString();
                                 return nullptr;
                               }
                               return std::move(*s);
                             }}),
                         conformance::StoreName);

class WriterStoreTest : public ::testing::Test {
 protected:
  void Open(std::size_t cache_bytes = RocksDbStoreOptions().current_cache_bytes) {
    RocksDbStoreOptions o;
    o.path = dir_.path();
    o.clock = &clock_;
    o.current_cache_bytes = cache_bytes;
    auto s = RocksDbProfileStore::Open(o);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }
  void SetUp() override { Open(); }

  Result<Profile> ApplySync(ApplyRequest r) {
    std::promise<Result<Profile>> p;
    auto f = p.get_future();
    store_->Apply(std::move(r), [&p](Result<Profile> res) { p.set_value(std::move(res)); });
    return f.get();
  }

  TempDir dir_;
  ManualClock clock_{FromUnixMicros(1700000000000000)};
  std::unique_ptr<RocksDbProfileStore> store_;
};

TEST_F(WriterStoreTest, HistoryNewestFirstAndEqualStampsKeptApart) {
  ASSERT_TRUE(ApplySync(Req(U(5), 200, {{"a", "2"}})));
  ASSERT_TRUE(ApplySync(Req(U(5), 100, {{"a", "1"}})));
  ASSERT_TRUE(ApplySync(Req(U(5), 300, {{"a", "3"}})));
  ASSERT_TRUE(ApplySync(Req(U(5), 300, {{"b", "x"}})));
  ASSERT_TRUE(ApplySync(Req(U(6), 999, {{"other", "user"}})));
  auto h = store_->History(U(5), 100);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].ts_us, 300);
  EXPECT_EQ((*h)[1].ts_us, 300);
  EXPECT_LT((*h)[0].seq, (*h)[1].seq);
  EXPECT_EQ((*h)[2].ts_us, 200);
  EXPECT_EQ((*h)[3].ts_us, 100);
  EXPECT_EQ(*(*h)[3].update.cells.at("a").value, "1");
}

TEST_F(WriterStoreTest, ExpiredIdempotencyRecordsDroppedByCompaction) {
  ApplyRequest r = Req(U(7), 100, {{"n", "1"}});
  r.idempotency = IdempotencyWrite{"old", Fingerprint{}, UnixMicros(clock_.Wall())};
  ASSERT_TRUE(ApplySync(std::move(r)));
  clock_.Advance(Micros{kIdempotencyRetentionUs / 2});
  ApplyRequest r2 = Req(U(7), 200, {{"n", "2"}});
  r2.idempotency = IdempotencyWrite{"new", Fingerprint{}, UnixMicros(clock_.Wall())};
  ASSERT_TRUE(ApplySync(std::move(r2)));
  clock_.Advance(
      Micros{kIdempotencyRetentionUs / 2 + 2 * 3600LL * 1000000});  // "old" well past 24 h
  ASSERT_TRUE(store_->Close());
  Open();  // flushed on close, so compaction sees SST files
  ASSERT_TRUE(store_->CompactIdempotency());
  EXPECT_FALSE(store_->GetIdempotency(U(7), "old")->has_value());
  EXPECT_TRUE(store_->GetIdempotency(U(7), "new")->has_value());
}

TEST_F(WriterStoreTest, ReopenKeepsEverythingAndSeqStaysUnique) {
  ASSERT_TRUE(ApplySync(Req(U(1), 100, {{"a", "1"}})));
  ASSERT_TRUE(ApplySync(Req(U(1), 100, {{"b", "2"}})));
  auto before = store_->Get(U(1));
  ASSERT_TRUE(before);
  store_.reset();
  Open();
  auto after = store_->Get(U(1));
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, *before);
  ASSERT_TRUE(ApplySync(Req(U(1), 100, {{"c", "3"}})));
  auto h = store_->History(U(1), 10);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 3u);  // same stamp three times, three rows
}

// A store whose `current` holds merge operands (blind merges, as written by
// earlier versions of the writer) reads back the LWW fold of them, in any
// arrival order, and later updates fold on top.
TEST_F(WriterStoreTest, OpensStoreHoldingMergeOperandsAndFoldsThemLww) {
  store_.reset();
  {
    rocksdb::ColumnFamilyOptions current;
    current.merge_operator = NewProfileLwwMergeOperator();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"current", current},
                                                        {"history", {}},
                                                        {"idempotency", {}}};
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.path(), cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto operand = [](std::int64_t ts,
                      std::map<std::string, std::optional<std::string>, std::less<>> attrs) {
      ProfileUpdate u;
      u.ts_us = ts;
      u.attributes = std::move(attrs);
      return EncodeProfile(ToProfile(u));
    };
    std::string key = CurrentKey(U(9));
    // Arrival order is not timestamp order; "a" is deleted at 300.
    for (const std::string& op :
         {operand(300, {{"a", std::nullopt}, {"b", "new"}}),
          operand(100, {{"a", "1"}, {"c", "keep"}}), operand(200, {{"a", "2"}, {"b", "old"}})}) {
      ASSERT_TRUE(db->Merge(rocksdb::WriteOptions(), handles[1], key, op).ok());
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  Open();
  auto p = store_->Get(U(9));
  ASSERT_TRUE(p) << p.error().ToString();
  std::map<std::string, std::string, std::less<>> want = {{"b", "new"}, {"c", "keep"}};
  EXPECT_EQ(VisibleAttributes(*p), want);
  EXPECT_EQ(p->updated_us, 300);
  ASSERT_TRUE(p->cells.contains("a"));
  EXPECT_FALSE(p->cells.at("a").value) << "the tombstone is kept";
  // A late write older than the tombstone cannot bring "a" back; a newer one can.
  auto late = ApplySync(Req(U(9), 250, {{"a", "zombie"}}));
  ASSERT_TRUE(late);
  EXPECT_FALSE(VisibleAttributes(*late).contains("a"));
  auto newer = ApplySync(Req(U(9), 400, {{"a", "back"}}));
  ASSERT_TRUE(newer);
  EXPECT_EQ(VisibleAttributes(*newer).at("a"), "back");
  store_.reset();
  Open();
  EXPECT_EQ(*store_->Get(U(9)), *newer);
}

TEST_F(WriterStoreTest, ConcurrentUpdatesGroupCommitToLwwState) {
  constexpr int kThreads = 8, kPerThread = 300;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread writes key "k" of users 0..3; the greatest ts wins.
        std::int64_t ts = 1000 + i * kThreads + t;
        if (ApplySync(Req(U(i % 4), ts, {{"k", std::to_string(ts)}}))) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  for (int u = 0; u < 4; ++u) {
    // Max ts written for user u: largest i with i%4==u, times kThreads, + kThreads-1.
    int last_i = kPerThread - 1;
    while (last_i % 4 != u) --last_i;
    std::int64_t want = 1000 + last_i * kThreads + kThreads - 1;
    auto g = store_->Get(U(static_cast<std::uint8_t>(u)));
    ASSERT_TRUE(g);
    EXPECT_EQ(*g->cells.at("k").value, std::to_string(want));
    EXPECT_EQ(g->updated_us, want);
  }
}

TEST_F(WriterStoreTest, SameUserTwiceInABatchAnswersEachUpdateWithItsOwnState) {
  // Enqueued back to back, so the writer takes many of them in one batch:
  // answer i must be the profile right after update i (keys k0..ki), not
  // the batch's final state, and the other user's answers stay its own.
  constexpr int kUpdates = 200;
  std::vector<std::promise<Result<Profile>>> promises(kUpdates);
  std::vector<std::future<Result<Profile>>> futures;
  futures.reserve(kUpdates);
  for (auto& p : promises) futures.push_back(p.get_future());
  for (int i = 0; i < kUpdates; ++i) {
    Uuid user = i % 3 == 2 ? U(8) : U(7);
    store_->Apply(Req(user, 1000 + i, {{"k" + std::to_string(i), std::to_string(i)}}),
                  [&promises, i](Result<Profile> r) { promises[i].set_value(std::move(r)); });
  }
  std::size_t seven = 0, eight = 0;
  for (int i = 0; i < kUpdates; ++i) {
    auto r = futures[i].get();
    ASSERT_TRUE(r) << r.error().ToString();
    std::size_t& n = i % 3 == 2 ? eight : seven;
    ++n;
    EXPECT_EQ(r->cells.size(), n) << "update " << i;
    EXPECT_EQ(r->updated_us, 1000 + i);
    EXPECT_EQ(*r->cells.at("k" + std::to_string(i)).value, std::to_string(i));
  }
  auto g7 = store_->Get(U(7));
  ASSERT_TRUE(g7);
  EXPECT_EQ(g7->cells.size(), seven);
  auto h = store_->History(U(8), 1000);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), eight);
}

TEST_F(WriterStoreTest, CurrentCacheOffTinyOrDefaultGivesTheSameAnswersAndState) {
  // 0: every update and Get reads RocksDB; 900 bytes: a few users fit, the
  // rest are evicted all the time; default: all cached. Reopening between
  // rounds starts with an empty cache over the stored state.
  for (std::size_t cap : {std::size_t{0}, std::size_t{900}, std::size_t{64} << 20}) {
    ASSERT_TRUE(store_->Close());
    store_.reset();
    std::filesystem::remove_all(dir_.path());
    for (int round = 0; round < 6; ++round) {
      Open(cap);
      for (int i = 0; i < 40; ++i) {
        std::int64_t ts = 1000 + round * 100 + i;
        Uuid user = U(static_cast<std::uint8_t>(i % 10));
        auto r = ApplySync(Req(user, ts, {{"r" + std::to_string(round), std::to_string(ts)}}));
        ASSERT_TRUE(r) << r.error().ToString();
        // rounds 0..round each left one key; this round's holds the newest ts.
        EXPECT_EQ(r->cells.size(), static_cast<std::size_t>(round + 1)) << cap;
        EXPECT_EQ(*r->cells.at("r" + std::to_string(round)).value, std::to_string(ts));
        auto g = store_->Get(user);  // read after the answer sees the update
        ASSERT_TRUE(g);
        EXPECT_EQ(*g, *r) << cap;
      }
      ASSERT_TRUE(store_->Close());
      store_.reset();
    }
    Open(cap);
    for (int u = 0; u < 10; ++u) {
      auto g = store_->Get(U(static_cast<std::uint8_t>(u)));
      ASSERT_TRUE(g);
      EXPECT_EQ(g->cells.size(), 6U) << cap;
      EXPECT_EQ(*g->cells.at("r5").value, std::to_string(1000 + 500 + 30 + u)) << cap;
    }
  }
}

TEST_F(WriterStoreTest, FullQueueFailsUnavailableAndClosedStoreRejects) {
  ASSERT_TRUE(store_->Close());
  auto r = ApplySync(Req(U(1), 1, {{"a", "1"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace ficus::writer
