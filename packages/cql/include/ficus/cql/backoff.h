// Reconnect delays: exponential growth with "equal jitter".
//
// Delay(n) for the n-th consecutive failure (0-based) is drawn uniformly from
// [d/2, d] where d = min(max, base * 2^n): it grows geometrically, never
// exceeds `max`, and clients that failed together spread out instead of
// reconnecting in lockstep (no reconnect storms). The random source is
// seeded by the caller so tests are deterministic. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace ficus::cql {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed)
      : base_(base), max_(max), rng_(seed) {}

  std::chrono::milliseconds Delay(int attempt) {
    std::int64_t d = max_.count();
    if (attempt < 32) d = std::min<std::int64_t>(max_.count(), base_.count() << attempt);
    std::uniform_int_distribution<std::int64_t> pick(d / 2, d);
    return std::chrono::milliseconds(pick(rng_));
  }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
};

}  // namespace ficus::cql
