// Clock and request ids, injectable so tests are deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace ficus::proxy {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, microseconds since the Unix epoch (X-Ficus-Timestamp).
  [[nodiscard]] virtual int64_t NowUs() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] int64_t NowUs() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// 32 hex digits from a per-thread generator seeded from std::random_device.
inline constexpr std::size_t kRequestIdLength = 32;

// A random request id (32 hex digits) written into `out`; returns a view of it.
inline std::string_view NewRequestId(char (&out)[kRequestIdLength]) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  const uint64_t a = rng(), b = rng();
  for (std::size_t i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (i * 4)) & 15];
    out[16 + i] = kHex[(b >> (i * 4)) & 15];
  }
  return {out, kRequestIdLength};
}

}  // namespace ficus::proxy
