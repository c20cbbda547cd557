#include "service/process_loop.h"

#include <boost/asio/post.hpp>
#include <csignal>

namespace ficus::proxy {

namespace asio = boost::asio;

ProcessLoop::ProcessLoop(asio::io_context& loop, ProcessLoopHooks hooks,
                         std::chrono::milliseconds tick)
    : loop_(loop),
      hooks_(std::move(hooks)),
      tick_(tick),
      signals_(loop, SIGHUP, SIGTERM, SIGINT),
      timer_(loop) {}

ProcessLoop::~ProcessLoop() {
  if (drainer_.joinable()) drainer_.join();
}

void ProcessLoop::Run() {
  ArmSignals();
  ArmTick();
  loop_.run();
  if (drainer_.joinable()) drainer_.join();
}

void ProcessLoop::ArmSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      if (hooks_.on_reload) hooks_.on_reload();
      ArmSignals();
      return;
    }
    if (stopping_) return;
    stopping_ = true;
    timer_.cancel();
    if (hooks_.begin_drain) hooks_.begin_drain(sig);
    drainer_ = std::thread([this] {
      if (hooks_.drain) hooks_.drain();
      asio::post(loop_, [this] { loop_.stop(); });
    });
  });
}

void ProcessLoop::ArmTick() {
  timer_.expires_after(tick_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (hooks_.on_tick) hooks_.on_tick();
    ArmTick();
  });
}

}  // namespace ficus::proxy
