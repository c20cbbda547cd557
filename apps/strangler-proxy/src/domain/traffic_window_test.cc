#include "domain/traffic_window.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

TEST(TrafficWindow, BucketsAreMonotonicAndWithinTenPercent) {
  int last = -1;
  for (int64_t us = 1; us < 60'000'000; us = us * 11 / 10 + 1) {
    const int b = TrafficWindow::BucketOf(us);
    EXPECT_GE(b, last);
    last = b;
    const double mid = TrafficWindow::BucketMidUs(b);
    EXPECT_NEAR(mid, static_cast<double>(us), static_cast<double>(us) * 0.1 + 1) << us;
  }
}

TEST(TrafficWindow, RatesAndPercentilesOverTheWindow) {
  ManualClock clock(FromUnixMicros(1'000'000'000'000));
  TrafficWindow w(clock, 10);
  EXPECT_FALSE(w.Snapshot().p50_ms.has_value());
  // 3 complete seconds of 100 served answers each: 98 fast (1 ms), 2 slow
  // (50 ms) errors; plus 50 mirrored answers (1 ms) in the last one.
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 100; ++i) w.Record(i < 98 ? 1000 : 50'000, i >= 98);
    if (s == 2) {
      for (int i = 0; i < 50; ++i) w.Record(1000, false, /*mirrored=*/true);
    }
    clock.Advance(std::chrono::seconds(1));
  }
  w.Record(1000, false);  // the current, partial second: not in the rates
  auto snap = w.Snapshot();
  EXPECT_EQ(snap.requests, 351u);
  EXPECT_EQ(snap.errors, 6u);
  EXPECT_NEAR(*snap.error_rate, 6.0 / 351, 1e-9);
  EXPECT_NEAR(*snap.rps, 300.0 / 9, 1e-9);
  EXPECT_NEAR(*snap.mirrored_rps, 50.0 / 9, 1e-9);
  EXPECT_NEAR(*snap.p50_ms, 1.0, 0.1);
  EXPECT_NEAR(*snap.p99_ms, 50.0, 5.0);
}

TEST(TrafficWindow, OldSecondsFallOutOfTheWindow) {
  ManualClock clock(FromUnixMicros(5'000'000'000));
  TrafficWindow w(clock, 5);
  for (int i = 0; i < 10; ++i) w.Record(100, true);
  clock.Advance(std::chrono::seconds(5));
  auto snap = w.Snapshot();
  EXPECT_EQ(snap.requests, 0u);
  EXPECT_FALSE(snap.error_rate.has_value());
  w.Record(100, false);  // reuses the slot of 5 s ago: cleared first
  EXPECT_EQ(w.Snapshot().requests, 1u);
  EXPECT_EQ(w.Snapshot().errors, 0u);
}

}  // namespace
}  // namespace ficus::proxy
