// Progress: counts work done and renders it.
//
// On a terminal: one self-overwriting line with a bar, percentage, rate and
// ETA. Otherwise (pipes, CI logs): a plain line per interval, never '\r'.
// Add()/AddErrors() are thread-safe and cheap (atomics); Tick() renders at
// most once per interval and is meant to be called from one thread; Finish()
// ends the line. The rate is measured over a sliding window of recent ticks
// so a stall shows as a falling rate, not an average that hides it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <utility>

#include "ficus/clock.h"

namespace ficus::migrator {

struct ProgressSnapshot {
  std::int64_t done = 0;
  std::int64_t total = 0;  // 0 = unknown
  std::int64_t errors = 0;
  double rate = 0;  // units per second
  std::int64_t elapsed_us = 0;
};

// Pure renderers (tested directly).
std::string FormatDuration(double seconds);  // "1:02:03", "4:05", "12s", "?"
std::string FormatBarLine(const std::string& label, const ProgressSnapshot& s, int width = 30);
std::string FormatPlainLine(const std::string& label, const std::string& unit,
                            const ProgressSnapshot& s);

class Progress {
 public:
  Progress(Clock& clock, std::FILE* out, bool tty, std::string label, std::string unit,
           std::int64_t interval_us);

  void SetTotal(std::int64_t total) { total_.store(total); }
  // Starts counting from `done` (a resumed run) without crediting it to the rate.
  void Resume(std::int64_t done);
  void Add(std::int64_t n) { done_.fetch_add(n, std::memory_order_relaxed); }
  void AddErrors(std::int64_t n) { errors_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t done() const { return done_.load(); }
  [[nodiscard]] std::int64_t errors() const { return errors_.load(); }

  void Tick();    // render if the interval has passed
  void Finish();  // render a final line and a newline (tty)
  ProgressSnapshot Snapshot();

 private:
  void Render(const ProgressSnapshot& s);

  Clock& clock_;
  std::FILE* out_;
  const bool tty_;
  const std::string label_, unit_;
  const Micros interval_;
  const MonoTime start_;
  std::atomic<std::int64_t> done_{0}, total_{0}, errors_{0};
  MonoTime last_render_;
  std::deque<std::pair<MonoTime, std::int64_t>> window_;  // (time, done)
};

}  // namespace ficus::migrator
