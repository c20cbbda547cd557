// Clock, injected wherever time matters so tests are deterministic.
// Thread-safe: NowUs may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ficus::writer {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual std::int64_t NowUs() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowUs() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Test clock: returns what it was set to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_us) : now_us_(now_us) {}
  std::int64_t NowUs() const override { return now_us_.load(); }
  void Set(std::int64_t now_us) { now_us_.store(now_us); }
  void Advance(std::int64_t us) { now_us_.fetch_add(us); }

 private:
  std::atomic<std::int64_t> now_us_;
};

}  // namespace ficus::writer
