#include "service/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ficus::migrator {
namespace {

TEST(RateLimiter, BurstIsFreeThenRateHolds) {
  ManualClock clock;
  RateLimiter limiter(clock, 100, 10);
  const auto start = clock.Mono().time_since_epoch().count();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.Acquire(), 0);
  for (int i = 0; i < 100; ++i) limiter.Acquire();
  // 100 tokens beyond the burst at 100/s take one second.
  EXPECT_NEAR(double(clock.Mono().time_since_epoch().count() - start), 1e6, 1e4);
}

TEST(RateLimiter, IdleTimeRefillsOnlyUpToBurst) {
  ManualClock clock;
  RateLimiter limiter(clock, 10, 5);
  clock.Advance(std::chrono::seconds(60));  // a minute idle
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Acquire(), 0);
  EXPECT_GT(limiter.Acquire(), 0);
}

TEST(RateLimiter, ZeroRateIsUnlimited) {
  ManualClock clock;
  RateLimiter limiter(clock, 0, 1);
  for (int i = 0; i < 100000; ++i) limiter.Acquire();
  EXPECT_EQ(clock.Mono().time_since_epoch().count(), 1'000'000);
}

TEST(RateLimiter, ConcurrentCallersShareTheRate) {
  ManualClock clock;
  RateLimiter limiter(clock, 1000, 1);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) limiter.Acquire();
    });
  }
  for (auto& t : threads) t.join();
  // 1000 tokens at 1000/s: about one second of (manual) time in total.
  EXPECT_GE(clock.Mono().time_since_epoch().count() - 1'000'000, 990'000);
}

}  // namespace
}  // namespace ficus::migrator
