// Clock and request ids, injectable so tests are deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

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
inline std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (i * 4)) & 15];
    id[16 + i] = kHex[(b >> (i * 4)) & 15];
  }
  return id;
}

}  // namespace ficus::proxy
