#include "domain/partition.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

TEST(Partition, RangesCoverTheSpaceWithoutOverlap) {
  auto r = SplitUserIdSpace(4);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].lo, "");
  EXPECT_EQ((*r)[0].hi, "40000000-0000-0000-0000-000000000000");
  EXPECT_EQ((*r)[1].lo, (*r)[0].hi);
  EXPECT_EQ((*r)[3].hi, "");
  const std::string ids[] = {
      "00000000-0000-0000-0000-000000000000", "3fffffff-ffff-ffff-ffff-ffffffffffff",
      "40000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"};
  for (const auto& id : ids) {
    int hits = 0;
    for (const auto& range : *r) hits += range.Contains(id);
    EXPECT_EQ(hits, 1) << id;
  }
}

TEST(Partition, OneMeansEverything) {
  auto r = SplitUserIdSpace(1);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], (KeyRange{"", ""}));
}

TEST(Partition, OddCountsAreStable) {
  auto a = SplitUserIdSpace(3);
  auto b = SplitUserIdSpace(3);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)[0].hi, "55555555-0000-0000-0000-000000000000");
}

TEST(Partition, RejectsBadCounts) {
  auto r = SplitUserIdSpace(0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("partitions"), std::string::npos);
  EXPECT_FALSE(SplitUserIdSpace(kMaxPartitions + 1));
}

}  // namespace
}  // namespace ficus::migrator
