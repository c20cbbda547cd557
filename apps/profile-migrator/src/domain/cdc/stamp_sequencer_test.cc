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
  std::vector<AttributeChange> c{{kU, "k", "a", 500, false},
                                 {kU, "k", "older", 300, false},  // explicit: kept
                                 {kU, "j", "b", 301, true},       // another key
                                 {kU, "k", "bare", 400, true}};   // implied, behind 500
  seq.Sequence(c);
  EXPECT_EQ(c[1].ts_us, 300);
  EXPECT_EQ(c[2].ts_us, 301);
  EXPECT_EQ(c[3].ts_us, 501);
}

TEST(StampSequencer, MemoryIsBounded) {
  StampSequencer seq(2);
  std::vector<AttributeChange> c{
      {kU, "a", "1", 10, false}, {kU, "b", "1", 10, false}, {kU, "c", "1", 10, false}};
  seq.Sequence(c);  // 3 keys > 2: forgotten
  std::vector<AttributeChange> d{{kU, "a", "2", 10, true}};
  seq.Sequence(d);
  EXPECT_EQ(d[0].ts_us, 10);
}

}  // namespace
}  // namespace ficus::migrator::cdc
