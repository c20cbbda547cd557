#include "domain/cdc/stamp_sequencer.h"

#include <gtest/gtest.h>

namespace ficus::migrator::cdc {
namespace {

constexpr const char* kU = "0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13";

TEST(StampSequencer, BareUpdatesOfOneKeyInOneSecondKeepTheirBinlogOrder) {
  StampSequencer seq;
  // Row stamp 100 (set by an upsert), then two bare updates: both imply 101.
  std::vector<AttributeChange> first{{kU, "k", "a", 100, false}, {kU, "k", "bare1", 101, true}};
  seq.Sequence(first);
  EXPECT_EQ(first[1].ts_us, 101);
  // The next batch: the second bare update implies 101 again -> 102.
  std::vector<AttributeChange> second{{kU, "k", "bare2", 101, true},
                                      {kU, "k", std::nullopt, 101, true}};
  seq.Sequence(second);
  EXPECT_EQ(second[0].ts_us, 102);
  EXPECT_EQ(second[1].ts_us, 103);  // the delete after it wins too
}

TEST(StampSequencer, ExplicitStampsAndOtherKeysAreLeftAlone) {
  StampSequencer seq;
  std::vector<AttributeChange> c{{kU, "k", "bare", 101, true},
                                 {kU, "k", "older", 100, false},  // explicit: kept, ends the chain
                                 {kU, "j", "b", 101, true},       // another key
                                 {kU, "k", "bare2", 101, true}};  // implied from the new column
  seq.Sequence(c);
  EXPECT_EQ(c[0].ts_us, 101);
  EXPECT_EQ(c[1].ts_us, 100);
  EXPECT_EQ(c[2].ts_us, 101);
  EXPECT_EQ(c[3].ts_us, 101);
  EXPECT_EQ(seq.size(), 2u);  // only keys whose last change was implied
}

// The cdc kill9 test's divergence: bare update, bare update, restart,
// delete. Without the journal the delete implies 101 again and loses to
// bare2 at 102; restored, it comes out at 103 as in one uninterrupted run.
TEST(StampSequencer, AChainStraddlingARestartGoesOnFromTheJournal) {
  StampSequencer before;
  std::vector<AttributeChange> first{
      {kU, "k", "bare1", 101, true}, {kU, "k", "bare2", 101, true}, {kU, "j", "x", 500, false}};
  before.Sequence(first);
  ASSERT_EQ(first[1].ts_us, 102);
  const std::string journal = EncodeStampMemos(before.TakeMemos());
  EXPECT_TRUE(before.TakeMemos().empty());

  auto memos = DecodeStampMemos(journal, "cp.stamps.0");
  ASSERT_TRUE(memos) << memos.error().message;
  StampSequencer after;
  after.Restore(*memos);
  std::vector<AttributeChange> second{{kU, "k", std::nullopt, 101, true}};
  after.Sequence(second);
  EXPECT_EQ(second[0].ts_us, 103);

  StampSequencer forgetful;  // what the follower did before the journal
  std::vector<AttributeChange> third{{kU, "k", std::nullopt, 101, true}};
  forgetful.Sequence(third);
  EXPECT_EQ(third[0].ts_us, 101);
}

TEST(StampSequencer, MemosRecordForgettingAndRoundTripOddKeys) {
  StampSequencer seq;
  const std::string odd = "k\t\"\n\u00e9";
  std::vector<AttributeChange> c{{kU, odd, "v", 7, true}, {kU, odd, "w", 50, false}};
  seq.Sequence(c);
  auto memos = seq.TakeMemos();
  ASSERT_EQ(memos.size(), 2u);
  EXPECT_EQ(memos[1], (StampMemo{kU, odd, 0}));
  auto back = DecodeStampMemos(EncodeStampMemos(memos), "j");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, memos);
  StampSequencer restored;
  restored.Restore(*back);
  EXPECT_EQ(restored.size(), 0u);
}

TEST(StampSequencer, ABadJournalLineIsANamedError) {
  auto r = DecodeStampMemos("[\"u\",\"k\",5]\n[\"u\",5]\n", "/x/cp.stamps.2");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/x/cp.stamps.2: line 2"), std::string::npos);
  auto torn = DecodeStampMemos("[\"u\",\"k\",5]", "f");
  ASSERT_FALSE(torn);
  EXPECT_NE(torn.error().message.find("line 1"), std::string::npos);
}

TEST(StampSequencer, MemoryIsBounded) {
  StampSequencer seq(2);
  std::vector<AttributeChange> c{
      {kU, "a", "1", 10, true}, {kU, "b", "1", 10, true}, {kU, "c", "1", 10, true}};
  seq.Sequence(c);  // 3 keys > 2: forgotten
  EXPECT_TRUE(seq.TakeCleared());
  EXPECT_FALSE(seq.TakeCleared());
  EXPECT_TRUE(seq.TakeMemos().empty());
  std::vector<AttributeChange> d{{kU, "a", "2", 10, true}};
  seq.Sequence(d);
  EXPECT_EQ(d[0].ts_us, 10);
}

}  // namespace
}  // namespace ficus::migrator::cdc
