#include "model/replay_consumer.h"

#include <chrono>

namespace ficus::proxy {

ReplayConsumer::ReplayConsumer(FileReplayLog& log, ReplaySender& sender, int threads)
    : log_(log), sender_(sender), threads_count_(std::max(1, threads)) {}

ReplayConsumer::~ReplayConsumer() {
  Stop();
}

void ReplayConsumer::Start() {
  if (running_.exchange(true)) return;
  for (int i = 0; i < threads_count_; ++i) threads_.emplace_back([this] { Run(); });
}

void ReplayConsumer::Stop() {
  if (!running_.exchange(false)) return;
  log_.WakeAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ReplayConsumer::Run() {
  while (running_.load()) {
    auto claimed = log_.Claim(std::chrono::milliseconds(200));
    if (!claimed || !claimed->has_value()) continue;
    const ReplayRecord& r = **claimed;
    ReplayOutcome outcome = sender_.Send(r);
    (void)log_.Complete(r.seq, outcome);
  }
}

}  // namespace ficus::proxy
