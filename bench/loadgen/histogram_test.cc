#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ficus::bench {
namespace {

// Nearest-rank percentile of a sorted sample: the reference.
std::uint64_t Exact(const std::vector<std::uint64_t>& sorted, double p) {
  if (p <= 0) return sorted.front();
  if (p >= 100) return sorted.back();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectWithinPrecision(const std::vector<std::uint64_t>& values) {
  LogHistogram h;
  for (auto v : values) h.Record(v);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0}) {
    const std::uint64_t exact = Exact(sorted, p);
    const std::uint64_t got = h.Percentile(p);
    EXPECT_GE(got, exact) << "p" << p;
    // Relative error below 2^-10 (exact below 1024).
    EXPECT_LE(got - exact, exact >> LogHistogram::kSubBits) << "p" << p << " exact " << exact;
  }
  long double sum = 0;
  for (auto v : values) sum += v;
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / values.size()), 1e-6 * h.mean() + 1e-9);
}

TEST(LogHistogram, BucketsTileEveryValue) {
  // Consecutive buckets are adjacent, each bucket maps its own bounds back to
  // itself, and the last one ends at UINT64_MAX.
  std::size_t b = 0;
  std::uint64_t low = 0;
  for (;; ++b) {
    ASSERT_EQ(LogHistogram::BucketLow(b), low) << b;
    const std::uint64_t high = LogHistogram::BucketHigh(b);
    ASSERT_GE(high, low);
    ASSERT_EQ(LogHistogram::BucketOf(low), b);
    ASSERT_EQ(LogHistogram::BucketOf(high), b);
    // Width below value / 1024 (relative precision).
    ASSERT_LE(high - low, low >> LogHistogram::kSubBits) << b;
    if (high == UINT64_MAX) break;
    low = high + 1;
  }
  EXPECT_EQ(b + 1, std::size_t{55} << LogHistogram::kSubBits);
}

TEST(LogHistogram, SmallValuesAreExact) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 0; i < 1024; ++i) v.push_back(i);
  LogHistogram h;
  for (auto x : v) h.Record(x);
  EXPECT_EQ(h.Percentile(50), 511u);
  EXPECT_EQ(h.Percentile(99), 1013u);  // ceil(0.99 * 1024) = 1014th value
  EXPECT_EQ(h.Percentile(100), 1023u);
  EXPECT_EQ(h.Percentile(0), 0u);
}

TEST(LogHistogram, MatchesExactPercentilesUniform) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> d(0, 50'000'000);  // 0..50 ms in ns
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = d(rng);
  ExpectWithinPrecision(v);
}

TEST(LogHistogram, MatchesExactPercentilesHeavyTail) {
  // Latency-like: lognormal body around 1 ms plus rare 100 ms - 2 s stalls.
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> body(std::log(1e6), 0.6);
  std::uniform_real_distribution<double> stall(1e8, 2e9);
  std::bernoulli_distribution is_stall(0.002);
  std::vector<std::uint64_t> v(300'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(is_stall(rng) ? stall(rng) : body(rng));
  ExpectWithinPrecision(v);
}

TEST(LogHistogram, MatchesExactPercentilesFewValues) {
  ExpectWithinPrecision({7});
  ExpectWithinPrecision({5'000'000, 1, 123'456'789});
  ExpectWithinPrecision({UINT64_MAX, 0, 1ull << 40, (1ull << 40) - 1});
}

TEST(LogHistogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> d(1e-6);
  LogHistogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const auto x = static_cast<std::uint64_t>(d(rng));
    (i % 3 ? a : b).Record(x);
    all.Record(x);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
}

TEST(LogHistogram, EmptyAndReset) {
  LogHistogram h;
  EXPECT_EQ(h.Percentile(99), 0u);
  EXPECT_EQ(h.max(), 0u);
  h.RecordN(42'000, 10);
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.Percentile(50), h.Percentile(100));
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
}

}  // namespace
}  // namespace ficus::bench
