// ProcessLoop: the proxy's control loop on the main thread — signals, the
// periodic tick, and the drain that ends it.
//
// - SIGHUP calls on_reload (on the loop); more SIGHUPs keep coming.
// - Every `tick` (500 ms) calls on_tick (the config file poll, access-log
//   flush) until a stop signal.
// - The first SIGTERM or SIGINT calls begin_drain (on the loop: stop health
//   checks, refuse new work), then runs drain on a thread of its own (it
//   blocks: finishing in-flight requests), and stops the loop when drain
//   returns. Later stop signals are ignored (the drain has a deadline).
// - Run() returns once the loop stopped and the drain thread was joined.
// Threads: construct and Run() on the thread that owns `loop`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <thread>

namespace ficus::proxy {

struct ProcessLoopHooks {
  std::function<void()> on_reload;
  std::function<void()> on_tick;
  std::function<void(int signal)> begin_drain;
  std::function<void()> drain;
};

class ProcessLoop {
 public:
  ProcessLoop(boost::asio::io_context& loop, ProcessLoopHooks hooks,
              std::chrono::milliseconds tick = std::chrono::milliseconds(500));
  ~ProcessLoop();
  ProcessLoop(const ProcessLoop&) = delete;
  ProcessLoop& operator=(const ProcessLoop&) = delete;

  void Run();

 private:
  void ArmSignals();
  void ArmTick();

  boost::asio::io_context& loop_;
  ProcessLoopHooks hooks_;
  std::chrono::milliseconds tick_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  std::thread drainer_;
};

}  // namespace ficus::proxy
