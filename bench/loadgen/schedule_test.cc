#include "schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ficus::bench {
namespace {

TEST(ArrivalSchedule, ConstantIsExactWithoutDrift) {
  ArrivalSchedule s(Arrival::kConstant, 3.0, 1);
  EXPECT_EQ(s.Next(), 0u);
  EXPECT_EQ(s.Next(), 333'333'333u);
  EXPECT_EQ(s.Next(), 666'666'666u);
  EXPECT_EQ(s.Next(), 1'000'000'000u);
  ArrivalSchedule fast(Arrival::kConstant, 40'000.0, 1);
  std::uint64_t t = 0;
  for (int i = 0; i <= 4'000'000; ++i) t = fast.Next();
  EXPECT_EQ(t, 100'000'000'000u);  // the 4,000,000th gap ends at exactly 100 s
}

TEST(ArrivalSchedule, PoissonHasTheRateAndExponentialGaps) {
  const double rate = 20'000;
  ArrivalSchedule s(Arrival::kPoisson, rate, 42);
  const int n = 400'000;
  std::vector<double> gaps;
  std::uint64_t prev = s.Next();
  EXPECT_EQ(prev, 0u);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t t = s.Next();
    ASSERT_GE(t, prev);
    gaps.push_back(static_cast<double>(t - prev));
    prev = t;
  }
  double sum = 0, sq = 0;
  for (double g : gaps) sum += g;
  const double mean = sum / n;
  for (double g : gaps) sq += (g - mean) * (g - mean);
  const double cv = std::sqrt(sq / n) / mean;
  EXPECT_NEAR(mean, 1e9 / rate, 0.01 * 1e9 / rate);  // 1% (standard error ~0.16%)
  EXPECT_NEAR(cv, 1.0, 0.02);                        // exponential: sd == mean
  // Memoryless: P(gap > mean) = 1/e.
  int longer = 0;
  for (double g : gaps) longer += g > mean;
  EXPECT_NEAR(static_cast<double>(longer) / n, std::exp(-1.0), 0.005);
}

TEST(ArrivalSchedule, PoissonIsDeterministicPerSeed) {
  ArrivalSchedule a(Arrival::kPoisson, 1000, 9), b(Arrival::kPoisson, 1000, 9),
      c(Arrival::kPoisson, 1000, 10);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(ArrivalSchedule, ParsesNames) {
  EXPECT_EQ(ParseArrival("constant"), Arrival::kConstant);
  EXPECT_EQ(ParseArrival("poisson"), Arrival::kPoisson);
  EXPECT_FALSE(ParseArrival("uniform").has_value());
}

}  // namespace
}  // namespace ficus::bench
