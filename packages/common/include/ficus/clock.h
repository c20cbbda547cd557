// Clock: the one source of time for every Ficus service, injected so tests
// are deterministic.
//
// Two kinds of time, as two types that do not mix (adding a MonoTime to a
// WallTime, or comparing them, is a compile error):
// - WallTime: UTC, microseconds since the Unix epoch. Meaningful across
//   processes and machines, but may step (NTP). For timestamps that are stored
//   or sent: X-Ficus-Timestamp, idempotency records, log lines, "saved at".
// - MonoTime: the steady clock, microseconds. Never steps back, meaningless
//   outside this process. For deadlines, durations, rates and backoff.
// A raw integer leaves a WallTime only through UnixMicros/UnixMillis, at the
// edge where it is written out, and a MonoTime only through MonoMicros, to be
// held in an atomic.
//
// SystemClock reads the real clocks; ManualClock (for tests) moves only when
// told to (Advance, Set, or a Sleep, which advances instead of blocking).
// Threads: every method of both is safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace ficus {

using Micros = std::chrono::microseconds;
using WallTime = std::chrono::sys_time<Micros>;
using MonoTime = std::chrono::time_point<std::chrono::steady_clock, Micros>;

// Microseconds / milliseconds since the Unix epoch, for the wire and for disk.
[[nodiscard]] constexpr std::int64_t UnixMicros(WallTime t) {
  return t.time_since_epoch().count();
}
[[nodiscard]] constexpr std::int64_t UnixMillis(WallTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}
[[nodiscard]] constexpr WallTime FromUnixMicros(std::int64_t us) {
  return WallTime{Micros{us}};
}
// Monotonic microseconds, for an atomic<int64_t> holding a MonoTime; compare
// only with other MonoMicros of this process.
[[nodiscard]] constexpr std::int64_t MonoMicros(MonoTime t) {
  return t.time_since_epoch().count();
}

// A duration as seconds, for rates and for the *_seconds metrics.
[[nodiscard]] constexpr double Seconds(Micros d) {
  return static_cast<double>(d.count()) / 1e6;
}

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual WallTime Wall() const = 0;
  [[nodiscard]] virtual MonoTime Mono() const = 0;
  // Blocks the calling thread for `d` (nothing for d <= 0). A ManualClock
  // advances by `d` instead, so code that waits through the clock runs at once.
  virtual void Sleep(Micros d) = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] static WallTime WallNow() {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
  [[nodiscard]] static MonoTime MonoNow() {
    return std::chrono::time_point_cast<Micros>(std::chrono::steady_clock::now());
  }
  // The process's one system clock, for code with nothing injected (latency
  // timing on a hot path, deadlines of real network waits).
  [[nodiscard]] static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }

  [[nodiscard]] WallTime Wall() const override { return WallNow(); }
  [[nodiscard]] MonoTime Mono() const override { return MonoNow(); }
  void Sleep(Micros d) override {
    if (d.count() > 0) std::this_thread::sleep_for(d);
  }
};

// For tests. Wall and monotonic time start apart (wall at `wall_start`, the
// monotonic clock at 1 s) and move together.
class ManualClock final : public Clock {
 public:
  static constexpr WallTime kDefaultWallStart = WallTime{Micros{1'700'000'000'000'000}};

  explicit ManualClock(WallTime wall_start = kDefaultWallStart)
      : wall_us_(UnixMicros(wall_start)), mono_us_(1'000'000) {}

  [[nodiscard]] WallTime Wall() const override { return FromUnixMicros(wall_us_.load()); }
  [[nodiscard]] MonoTime Mono() const override { return MonoTime{Micros{mono_us_.load()}}; }
  void Sleep(Micros d) override {
    if (d.count() > 0) Advance(d);
  }

  // Moves both clocks forward by `d` (d >= 0).
  void Advance(Micros d) {
    wall_us_.fetch_add(d.count());
    mono_us_.fetch_add(d.count());
  }
  // Sets the wall clock only, as NTP would step it; the monotonic clock is kept.
  void SetWall(WallTime t) { wall_us_.store(UnixMicros(t)); }

 private:
  std::atomic<std::int64_t> wall_us_;
  std::atomic<std::int64_t> mono_us_;
};

// Measures elapsed monotonic time from its construction (or the last Restart).
class Stopwatch {
 public:
  explicit Stopwatch(const Clock& clock = SystemClock::Instance())
      : clock_(clock), start_(clock.Mono()) {}
  [[nodiscard]] Micros Elapsed() const { return clock_.Mono() - start_; }
  [[nodiscard]] double ElapsedSeconds() const { return Seconds(Elapsed()); }
  void Restart() { start_ = clock_.Mono(); }

 private:
  const Clock& clock_;
  MonoTime start_;
};

}  // namespace ficus
