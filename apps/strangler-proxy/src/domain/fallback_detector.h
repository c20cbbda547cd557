// FallbackDetector: decides when a route must fall back from modern to legacy.
//
// Contract:
// - One detector per route. Record() is fed every outcome of a request the
//   proxy sent to the modern backend (primary or mirror); an error is a 5xx
//   answer or no answer (timeout, connect/IO failure). 4xx is not an error.
// - The detector keeps a sliding window of `window_s` seconds in buckets of
//   max(100 ms, window/100). After every Record() it checks the window: when
//   it holds at least `min_requests` outcomes and errors/total > error_rate,
//   it trips. Since the check runs on the recording call, a route trips on
//   the very request that crosses the threshold (well within a second).
// - Once tripped it stays tripped (Record() keeps counting but never clears
//   it) until Reset() by an operator; Reset() also empties the window so old
//   errors do not re-trip it at once.
// - Disabled params (enabled == false) never trip.
// Time: the injected clock returns milliseconds (wall clock, Unix ms, by
// default) so `since` can be shown as is; a clock going backwards is
// tolerated (treated as "now" = last seen time).
// Threads: all methods are thread-safe (one short mutex section each).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ficus/clock.h"

namespace ficus::proxy {

struct FallbackParams {
  bool enabled = true;
  double error_rate = 0.05;  // trip when errors/total > this
  uint32_t window_s = 30;
  uint32_t min_requests = 50;
};

struct FallbackState {
  bool tripped = false;
  int64_t since_ms = 0;  // clock time of the trip, 0 when not tripped
  std::string reason;    // why it tripped, for logs, API and dashboard
  uint64_t window_total = 0;
  uint64_t window_errors = 0;
};

class FallbackDetector {
 public:
  // Windows follow `clock`'s wall time; it must outlive the detector.
  explicit FallbackDetector(FallbackParams params, const Clock& clock = SystemClock::Instance());

  // Records one modern outcome. Returns true exactly once: on the call that
  // trips the detector (the caller logs and switches the route).
  bool Record(bool error);

  [[nodiscard]] bool Tripped() const;
  [[nodiscard]] FallbackState State() const;
  [[nodiscard]] FallbackParams Params() const;

  // Operator re-enable: clears the trip and the window.
  void Reset();
  // A trip decided elsewhere (another replica of the fleet): trips with that
  // time and reason unless already tripped. True when it was not tripped.
  bool Trip(int64_t since_ms, std::string reason);

  // New params on config reload; keeps the trip state, resets the window
  // only when its geometry (window_s) changed.
  void Configure(FallbackParams params);

 private:
  struct Bucket {
    int64_t start_ms = -1;
    uint64_t total = 0;
    uint64_t errors = 0;
  };
  int64_t NowLocked();
  void ResizeLocked();
  void SumLocked(int64_t now, uint64_t& total, uint64_t& errors) const;

  mutable std::mutex mu_;
  FallbackParams params_;
  const Clock& clock_;
  int64_t bucket_ms_ = 100;
  int64_t last_now_ = 0;
  std::vector<Bucket> buckets_;
  FallbackState state_;
};

}  // namespace ficus::proxy
