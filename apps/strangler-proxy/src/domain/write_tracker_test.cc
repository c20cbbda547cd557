#include "domain/write_tracker.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

TEST(WriteTracker, InFlightAndRecentWritesRace) {
  WriteTracker t;
  EXPECT_FALSE(t.MayRace("u", 1'000'000, 5000));
  t.Begin("u");
  EXPECT_TRUE(t.MayRace("u", 1'000'000, 0));
  EXPECT_FALSE(t.MayRace("v", 1'000'000, 5000));
  t.End("u", 1'000'000);
  // A copy whose round trip (5 ms) overlaps the completion may have overtaken it.
  EXPECT_TRUE(t.MayRace("u", 1'004'000, 5000));
  EXPECT_FALSE(t.MayRace("u", 1'006'000, 5000));
  EXPECT_FALSE(t.MayRace("", 1'000'000, 5000));
}

TEST(WriteTracker, EndTellsWhetherAnotherWriteRaced) {
  WriteTracker t;
  t.Begin("u");
  EXPECT_FALSE(t.End("u", 1'000'000, 5000));  // alone: its own completion does not count
  t.Begin("u");
  t.Begin("u");
  EXPECT_TRUE(t.End("u", 2'000'000, 5000));  // the other one is still in flight
  EXPECT_TRUE(t.End("u", 2'001'000, 5000));  // the other completed 1 ms ago, within the window
  t.Begin("u");
  EXPECT_FALSE(t.End("u", 3'000'000, 5000));
}

TEST(WriteTracker, ReplayPendingUsersRaceUntilTheirDeadline) {
  WriteTracker t;
  t.Pending("u", 2'000'000);
  EXPECT_TRUE(t.MayRace("u", 1'500'000, 0));
  EXPECT_FALSE(t.MayRace("u", 2'000'001, 0));
}

TEST(WriteTracker, InFlightIsKnownPerSide) {
  WriteTracker t;
  EXPECT_FALSE(t.InFlightTo("u", true));
  t.Begin("u", /*to_legacy=*/true);
  EXPECT_TRUE(t.InFlightTo("u", true));
  EXPECT_FALSE(t.InFlightTo("u", false));
  t.Begin("u", false);
  EXPECT_TRUE(t.InFlightTo("u", false));
  (void)t.End("u", 10, 0, true);
  EXPECT_FALSE(t.InFlightTo("u", true));
  EXPECT_TRUE(t.InFlightTo("u", false));
  (void)t.End("u", 11, 0, false);
  EXPECT_FALSE(t.InFlightTo("u", false));
  EXPECT_FALSE(t.InFlightTo("", false));
}

TEST(WriteTracker, SweepsIdleUsersButKeepsBusyOnes) {
  WriteTracker t(2);
  t.Begin("busy");
  for (int i = 0; i < 3; ++i) {
    t.Begin("u" + std::to_string(i));
    t.End("u" + std::to_string(i), 0);
  }
  t.Begin("x");
  t.End("x", 20'000'000);  // over the bound: users idle for 10 s go
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.MayRace("busy", 20'000'000, 0));
}

}  // namespace
}  // namespace ficus::proxy
