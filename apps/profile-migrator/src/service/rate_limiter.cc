#include "service/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ficus::migrator {

RateLimiter::RateLimiter(Clock& clock, double rate_per_s, double burst)
    : clock_(clock),
      rate_(rate_per_s),
      burst_(std::max(burst, 1.0)),
      tokens_(std::max(burst, 1.0)),
      last_(clock.Mono()) {}

std::int64_t RateLimiter::Acquire(double n) {
  if (rate_ <= 0) return 0;
  std::int64_t wait_us = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const MonoTime now = clock_.Mono();
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + Seconds(now - last_) * rate_);
      last_ = now;
    }
    tokens_ -= n;
    if (tokens_ < 0) wait_us = static_cast<std::int64_t>(std::ceil(-tokens_ * 1e6 / rate_));
  }
  clock_.Sleep(Micros{wait_us});
  return wait_us;
}

}  // namespace ficus::migrator
