#include "ficus/testing/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <stdexcept>

#include "ficus/testing/files.h"
#include "ficus/testing/temp_dir.h"

namespace ficus::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool Alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

TEST(Process, ExitCodeAndLogsInFiles) {
  TempDir dir;
  Process p({"/bin/sh", "-c", "echo to-out; echo to-err >&2; exit 3"}, dir.File("sh"));
  ASSERT_EQ(p.Wait(10s), 3);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(ReadFile(dir.File("sh.out")), "to-out\n");
  EXPECT_EQ(ReadFile(dir.File("sh.err")), "to-err\n");
  EXPECT_EQ(p.Logs(), "to-out\nto-err\n");
  EXPECT_EQ(p.Wait(0ms), 3);  // reaped: the same code again
}

TEST(Process, ArgumentsAndEnvironmentReachTheChild) {
  TempDir dir;
  ::setenv("FICUS_PROCESS_TEST_INHERITED", "from-test", 1);
  ProcessOptions o;
  o.stdout_path = dir.File("log");
  o.stderr_path = o.stdout_path;
  o.env = {{"FICUS_PROCESS_TEST", "a b"}};
  o.search_path = true;
  Process p({"sh", "-c", "echo \"$0|$1|$FICUS_PROCESS_TEST|$FICUS_PROCESS_TEST_INHERITED\" >&2",
             "arg zero", "arg one"},
            o);
  ASSERT_EQ(p.Wait(10s), 0);
  EXPECT_EQ(p.Logs(), "arg zero|arg one|a b|from-test\n");
}

TEST(Process, SignalAndKillReportTheSignal) {
  Process term({"/bin/sleep", "30"}, ProcessOptions{});
  EXPECT_TRUE(term.running());
  term.Signal(SIGTERM);
  EXPECT_EQ(term.Wait(10s), 128 + SIGTERM);

  Process killed({"/bin/sleep", "30"}, ProcessOptions{});
  killed.Kill();
  EXPECT_FALSE(killed.running());
  EXPECT_EQ(killed.Wait(0ms), 128 + SIGKILL);
}

TEST(Process, WaitTimesOutWhileTheChildRuns) {
  Process p({"/bin/sleep", "30"}, ProcessOptions{});
  const auto t0 = Clock::now();
  EXPECT_EQ(p.Wait(200ms), std::nullopt);
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(p.running());
}

TEST(Process, SignalsIgnoredByTheTestAreDefaultInTheChild) {
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ign, &old);
  Process p({"/bin/sleep", "30"}, ProcessOptions{});
  ::sigaction(SIGTERM, &old, nullptr);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(10s), 128 + SIGTERM);
}

TEST(Process, DestructorKillsARunningChild) {
  pid_t pid = -1;
  {
    Process p({"/bin/sleep", "30"}, ProcessOptions{});
    pid = p.pid();
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(Alive(pid));  // killed and reaped (no zombie)
}

TEST(Process, MissingProgramThrowsNamingIt) {
  try {
    Process p({"/nonexistent/ficus-no-such-binary"}, ProcessOptions{});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ficus-no-such-binary"), std::string::npos) << e.what();
  }
}

TEST(RunToEnd, ExitCodeOutputAndTimeout) {
  TempDir dir;
  const std::string log = dir.File("run.log");
  EXPECT_EQ(RunToEnd({"sh", "-c", "echo hi; exit 7"}, log), 7);
  EXPECT_EQ(ReadFile(log), "hi\n");
  const auto t0 = Clock::now();
  EXPECT_EQ(RunToEnd({"sleep", "30"}, log, 200ms), std::nullopt);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_EQ(RunToEnd({"ficus-no-such-binary"}, log), std::nullopt);
}

}  // namespace
}  // namespace ficus::testing
