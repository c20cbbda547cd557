#include "ficus/testing/wait_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ficus::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(WaitFor, TrueAtOnceCallsOnce) {
  int calls = 0;
  EXPECT_TRUE(WaitFor([&] { return ++calls > 0; }, 1s));
  EXPECT_EQ(calls, 1);
}

TEST(WaitFor, ReturnsWhenTheConditionBecomesTrue) {
  std::atomic<bool> flag{false};
  std::thread t([&] {
    std::this_thread::sleep_for(100ms);
    flag = true;
  });
  const auto t0 = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return flag.load(); }, 5s, 5ms));
  const auto took = Clock::now() - t0;
  t.join();
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 2s);  // not the whole timeout
}

TEST(WaitFor, FalseAfterTheTimeoutNotBeforeNotLongAfter) {
  int calls = 0;
  const auto t0 = Clock::now();
  EXPECT_FALSE(WaitFor([&] { return ++calls < 0; }, 300ms, 20ms));
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_GE(calls, 5);  // it polled
}

TEST(WaitFor, ChecksOnceMoreAtTheDeadline) {
  // Becomes true during the only sleep (the interval is longer than the
  // timeout): the last check at the deadline must see it.
  const auto t0 = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return Clock::now() - t0 >= 50ms; }, 100ms, 10s));
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST(WaitFor, ZeroTimeoutChecksOnce) {
  int calls = 0;
  EXPECT_FALSE(WaitFor([&] { return ++calls < 0; }, 0ms));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ficus::testing
