#include "domain/fallback_detector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ficus::proxy {
namespace {

int64_t NowMs(const ManualClock& clock) {
  return UnixMillis(clock.Wall());
}

FallbackParams Params(double rate = 0.1, uint32_t window_s = 10, uint32_t min_requests = 20) {
  return FallbackParams{true, rate, window_s, min_requests};
}

TEST(FallbackDetector, TripsOnTheRequestThatCrossesTheThreshold) {
  ManualClock clock;
  FallbackDetector d(Params(), clock);
  for (int i = 0; i < 90; ++i) {
    EXPECT_FALSE(d.Record(false));
    clock.Advance(std::chrono::milliseconds(10));
  }
  // 90 ok; errors: 10/100 = 0.10 is not above 0.10, the 11th error is.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(d.Record(true));
  EXPECT_FALSE(d.Tripped());
  EXPECT_TRUE(d.Record(true));
  EXPECT_TRUE(d.Tripped());
  auto s = d.State();
  EXPECT_EQ(s.since_ms, NowMs(clock));
  EXPECT_NE(s.reason.find("11/101"), std::string::npos) << s.reason;
  EXPECT_FALSE(d.Record(true));  // reports the trip only once
}

TEST(FallbackDetector, NeedsMinimumRequests) {
  ManualClock clock;
  FallbackDetector d(Params(0.05, 10, 20), clock);
  for (int i = 0; i < 19; ++i) EXPECT_FALSE(d.Record(true));
  EXPECT_FALSE(d.Tripped());
  EXPECT_TRUE(d.Record(true));  // 20th request, 100% errors
}

TEST(FallbackDetector, OldOutcomesLeaveTheWindow) {
  ManualClock clock;
  FallbackDetector d(Params(0.5, 10, 20), clock);
  for (int i = 0; i < 15; ++i) d.Record(true);       // errors, but too few to judge
  clock.Advance(std::chrono::milliseconds(11'000));  // they age out
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(d.Record(false));
  EXPECT_FALSE(d.Tripped());
  EXPECT_EQ(d.State().window_total, 30u);
  // Errors spread over time: only the last 10 s count.
  for (int s = 0; s < 30; ++s) {
    clock.Advance(std::chrono::milliseconds(1000));
    d.Record(false);
    d.Record(false);
  }
  EXPECT_EQ(d.State().window_total, 20u);
  EXPECT_EQ(d.State().window_errors, 0u);
}

TEST(FallbackDetector, StaysTrippedUntilReset) {
  ManualClock clock;
  FallbackDetector d(Params(0.1, 5, 10), clock);
  for (int i = 0; i < 10; ++i) d.Record(true);
  ASSERT_TRUE(d.Tripped());
  clock.Advance(std::chrono::milliseconds(60'000));  // a long healthy period does not clear it
  for (int i = 0; i < 1000; ++i) d.Record(false);
  EXPECT_TRUE(d.Tripped());
  d.Reset();
  EXPECT_FALSE(d.Tripped());
  EXPECT_EQ(d.State().since_ms, 0);
  EXPECT_EQ(d.State().window_total, 0u);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(d.Record(true));
  EXPECT_TRUE(d.Record(true));
}

TEST(FallbackDetector, DisabledNeverTrips) {
  ManualClock clock;
  FallbackParams p = Params();
  p.enabled = false;
  FallbackDetector d(p, clock);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(d.Record(true));
  d.Configure(Params());
  EXPECT_TRUE(d.Record(true));  // re-enabled by reload: the window still holds the errors
}

TEST(FallbackDetector, ClockGoingBackwardsIsTolerated) {
  ManualClock clock;
  FallbackDetector d(Params(0.5, 10, 10), clock);
  for (int i = 0; i < 5; ++i) d.Record(false);
  clock.SetWall(clock.Wall() - std::chrono::seconds(100));
  for (int i = 0; i < 5; ++i) d.Record(false);
  EXPECT_EQ(d.State().window_total, 10u);
}

TEST(FallbackDetector, ConcurrentRecordsTripExactlyOnce) {
  FallbackDetector d(Params(0.1, 30, 100));  // real clock
  std::atomic<int> trips{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) trips += d.Record(i % 2 == 0) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(trips.load(), 1);
  EXPECT_EQ(d.State().window_total, 4000u);
}

}  // namespace
}  // namespace ficus::proxy
