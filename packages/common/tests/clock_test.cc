#include "ficus/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <concepts>

namespace ficus {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Wall and monotonic time do not mix: neither converts to the other, and a
// difference of the two does not compile.
static_assert(!std::convertible_to<WallTime, MonoTime>);
static_assert(!std::convertible_to<MonoTime, WallTime>);
template <class A, class B>
concept Subtractable = requires(A a, B b) {
  a - b;
};
template <class A, class B>
concept Comparable = requires(A a, B b) {
  a < b;
};
static_assert(Subtractable<MonoTime, MonoTime> && Comparable<WallTime, WallTime>);
static_assert(!Subtractable<WallTime, MonoTime> && !Subtractable<MonoTime, WallTime>);
static_assert(!Comparable<WallTime, MonoTime>);
// A bare integer is not a time.
static_assert(!std::convertible_to<std::int64_t, WallTime>);
static_assert(!std::convertible_to<std::int64_t, Micros>);

TEST(SystemClock, WallIsUnixEpochAndMonoMovesForward) {
  SystemClock clock;
  const auto wall = clock.Wall();
  // 2020-01-01 < now < 2100-01-01
  EXPECT_GT(UnixMicros(wall), 1'577'836'800'000'000);
  EXPECT_LT(UnixMicros(wall), 4'102'444'800'000'000);
  const MonoTime a = clock.Mono();
  clock.Sleep(Micros{2000});
  const MonoTime b = clock.Mono();
  EXPECT_GE(b - a, Micros{2000});
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(FromUnixMicros(5'000'000));
  const MonoTime m0 = clock.Mono();
  EXPECT_EQ(UnixMicros(clock.Wall()), 5'000'000);
  EXPECT_EQ(clock.Mono(), m0);

  clock.Advance(milliseconds(250));
  EXPECT_EQ(UnixMicros(clock.Wall()), 5'250'000);
  EXPECT_EQ(clock.Mono() - m0, milliseconds(250));

  clock.Sleep(seconds(3));  // returns at once, time moved
  EXPECT_EQ(clock.Mono() - m0, milliseconds(3250));

  clock.Sleep(Micros{-5});  // nothing
  EXPECT_EQ(clock.Mono() - m0, milliseconds(3250));
}

TEST(ManualClock, SetWallStepsWallOnly) {
  ManualClock clock;
  const MonoTime m0 = clock.Mono();
  clock.SetWall(FromUnixMicros(42));
  EXPECT_EQ(UnixMicros(clock.Wall()), 42);
  EXPECT_EQ(clock.Mono(), m0);
}

TEST(Clock, UnixMillisFloors) {
  EXPECT_EQ(UnixMillis(FromUnixMicros(1'999)), 1);
  EXPECT_EQ(UnixMillis(FromUnixMicros(-1)), -1);
  EXPECT_DOUBLE_EQ(Seconds(milliseconds(1500)), 1.5);
}

TEST(Stopwatch, MeasuresTheInjectedClock) {
  ManualClock clock;
  Stopwatch watch(clock);
  EXPECT_EQ(watch.Elapsed(), Micros{0});
  clock.Advance(milliseconds(1500));
  EXPECT_DOUBLE_EQ(watch.ElapsedSeconds(), 1.5);
  watch.Restart();
  EXPECT_EQ(watch.Elapsed(), Micros{0});
}

}  // namespace
}  // namespace ficus
