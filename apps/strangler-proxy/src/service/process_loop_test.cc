#include "service/process_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <csignal>

namespace ficus::proxy {
namespace {

TEST(ProcessLoop, ReloadsOnSighupTicksAndDrainsOnceOnSigterm) {
  boost::asio::io_context loop(1);
  std::atomic<int> reloads{0};
  std::atomic<int> ticks{0};
  std::atomic<int> begun{0};
  std::atomic<int> drained{0};
  int signal_seen = 0;
  ProcessLoopHooks hooks;
  hooks.on_reload = [&] {
    if (++reloads == 2) std::raise(SIGTERM);  // a second SIGHUP came through
  };
  hooks.on_tick = [&] {
    if (++ticks == 3) std::raise(SIGHUP);
    if (ticks == 1) std::raise(SIGHUP);
  };
  hooks.begin_drain = [&](int sig) {
    signal_seen = sig;
    ++begun;
    std::raise(SIGINT);  // ignored: the drain is under way
  };
  hooks.drain = [&] { ++drained; };
  ProcessLoop pl(loop, hooks, std::chrono::milliseconds(10));
  pl.Run();  // returns only once the drain ran and the loop stopped
  EXPECT_EQ(reloads.load(), 2);
  EXPECT_GE(ticks.load(), 3);
  EXPECT_EQ(begun.load(), 1);
  EXPECT_EQ(drained.load(), 1);
  EXPECT_EQ(signal_seen, SIGTERM);
}

}  // namespace
}  // namespace ficus::proxy
