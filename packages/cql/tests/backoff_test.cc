#include "ficus/cql/backoff.h"

#include <gtest/gtest.h>

namespace ficus::cql {
namespace {

using namespace std::chrono_literals;

TEST(CqlBackoff, GrowsExponentiallyWithEqualJitterAndCaps) {
  Backoff b(100ms, 5000ms, 42);
  for (int attempt = 0; attempt < 12; ++attempt) {
    auto d = b.Delay(attempt).count();
    std::int64_t cap = std::min<std::int64_t>(5000, 100LL << attempt);
    EXPECT_GE(d, cap / 2) << attempt;
    EXPECT_LE(d, cap) << attempt;
  }
  EXPECT_LE(b.Delay(1000).count(), 5000);
}

TEST(CqlBackoff, JitterSpreadsClientsAndIsDeterministicPerSeed) {
  Backoff a(100ms, 10000ms, 1), a2(100ms, 10000ms, 1), c(100ms, 10000ms, 2);
  std::vector<std::int64_t> da, da2, dc;
  for (int i = 0; i < 8; ++i) {
    da.push_back(a.Delay(i).count());
    da2.push_back(a2.Delay(i).count());
    dc.push_back(c.Delay(i).count());
  }
  EXPECT_EQ(da, da2);
  EXPECT_NE(da, dc);
}

}  // namespace
}  // namespace ficus::cql
