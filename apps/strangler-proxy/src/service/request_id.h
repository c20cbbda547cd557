// Request ids: 32 hex digits from a per-thread generator seeded from
// std::random_device. Thread-safe (the generator is thread_local).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

namespace ficus::proxy {

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
