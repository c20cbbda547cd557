// Clock: the one source of time for the migrator, injected so tests are
// deterministic. NowUs() is monotonic (steady) time, WallUs() is the UTC
// epoch in microseconds. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace ficus::migrator {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowUs() = 0;
  virtual std::int64_t WallUs() = 0;
  virtual void SleepUs(std::int64_t us) = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowUs() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t WallUs() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void SleepUs(std::int64_t us) override {
    if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
};

// For tests: time only moves when SleepUs or Advance is called.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_us = 1'000'000) : now_(start_us) {}
  std::int64_t NowUs() override { return now_.load(); }
  std::int64_t WallUs() override { return now_.load(); }
  void SleepUs(std::int64_t us) override {
    if (us > 0) now_.fetch_add(us);
  }
  void Advance(std::int64_t us) { now_.fetch_add(us); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace ficus::migrator
