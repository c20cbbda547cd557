// RateLimiter: a token bucket (rate tokens/s, at most `burst` saved up).
//
// Acquire(n) blocks the calling thread (through the injected Clock) until n
// tokens are available, then takes them. Reservations are first come, first
// served: a caller that finds the bucket empty reserves its tokens (the
// balance goes negative) and sleeps exactly as long as the refill needs, so
// concurrent callers never exceed the rate. A rate of 0 means unlimited.
// Thread-safe. The Clock must outlive the limiter.
#pragma once

#include <cstdint>
#include <mutex>

#include "ficus/clock.h"

namespace ficus::migrator {

class RateLimiter {
 public:
  RateLimiter(Clock& clock, double rate_per_s, double burst);

  // Takes n tokens, sleeping first if needed. Returns the microseconds slept.
  std::int64_t Acquire(double n = 1);

  [[nodiscard]] double rate() const { return rate_; }

 private:
  Clock& clock_;
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  MonoTime last_;
};

}  // namespace ficus::migrator
