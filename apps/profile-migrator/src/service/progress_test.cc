#include "service/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace ficus::migrator {
namespace {

TEST(Progress, Durations) {
  EXPECT_EQ(FormatDuration(12), "12s");
  EXPECT_EQ(FormatDuration(245), "4:05");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-1), "?");
}

TEST(Progress, BarShowsFractionRateAndEta) {
  ProgressSnapshot s{.done = 250, .total = 1000, .errors = 2, .rate = 50, .elapsed_us = 5'000'000};
  const std::string line = FormatBarLine("backfill", s, 20);
  EXPECT_EQ(line, "backfill [#####...............]  25.0% 250/1000 50/s ETA 15s errors 2");
}

TEST(Progress, PlainLineHasNoCarriageReturn) {
  ProgressSnapshot s{.done = 10, .total = 0, .errors = 0, .rate = 2, .elapsed_us = 5'000'000};
  const std::string line = FormatPlainLine("verify", "users", s);
  EXPECT_EQ(line, "verify: 10/? users 2 users/s elapsed 5s ETA ? errors 0");
  EXPECT_EQ(line.find('\r'), std::string::npos);
}

TEST(Progress, RateComesFromTheClockAndTicksRespectTheInterval) {
  ManualClock clock;
  char buf[4096] = {};
  std::FILE* out = fmemopen(buf, sizeof buf, "w");
  Progress p(clock, out, false, "backfill", "profiles", 1'000'000);
  p.SetTotal(1000);
  p.Add(100);
  clock.Advance(std::chrono::milliseconds(500));
  p.Tick();  // before the interval: nothing
  std::fflush(out);
  EXPECT_EQ(std::string(buf), "");
  clock.Advance(std::chrono::milliseconds(500));
  p.Tick();
  std::fflush(out);
  EXPECT_NE(std::string(buf).find("100/1000 (10.0%) profiles 100 profiles/s"), std::string::npos)
      << buf;
  std::fclose(out);
}

TEST(Progress, ResumeDoesNotInflateTheRate) {
  ManualClock clock;
  Progress p(clock, nullptr, false, "b", "p", 1);
  p.Resume(5000);
  p.Add(10);
  clock.Advance(std::chrono::seconds(1));
  auto s = p.Snapshot();
  EXPECT_EQ(s.done, 5010);
  EXPECT_DOUBLE_EQ(s.rate, 10);
}

}  // namespace
}  // namespace ficus::migrator
