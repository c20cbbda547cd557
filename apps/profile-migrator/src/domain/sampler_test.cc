#include "domain/sampler.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace ficus::migrator {
namespace {

std::string Id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
  return buf;
}

TEST(Sampler, ParsesCountsAndPercentages) {
  auto n = ParseSample("1000");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, SampleSpec::Kind::kCount);
  EXPECT_EQ(n->count, 1000);
  auto p = ParseSample("2.5%");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, SampleSpec::Kind::kPercent);
  EXPECT_DOUBLE_EQ(p->percent, 2.5);
  for (const char* bad : {"", "0", "-3", "abc", "0%", "101%", "5%%", "1e3x"}) {
    auto r = ParseSample(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--sample"), std::string::npos);
  }
}

TEST(Sampler, PercentPicksAboutThatShareStably) {
  SampleSpec s{SampleSpec::Kind::kPercent, 0, 10, 7};
  int picked = 0;
  for (int i = 0; i < 100000; ++i) picked += PercentSelects(s, Id(i));
  EXPECT_NEAR(picked, 10000, 600);
  EXPECT_EQ(PercentSelects(s, Id(42)), PercentSelects(s, Id(42)));
}

TEST(Sampler, ReservoirKeepsExactlyNDistinctSortedIds) {
  Reservoir r(100, 3);
  for (int i = 0; i < 10000; ++i) r.Offer(Id(i));
  auto ids = r.Take();
  ASSERT_EQ(ids.size(), 100u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 100u);
  Reservoir small(100, 3);
  for (int i = 0; i < 5; ++i) small.Offer(Id(i));
  EXPECT_EQ(small.Take().size(), 5u);
}

}  // namespace
}  // namespace ficus::migrator
