// TrafficWindow: live request rate, error rate and latency percentiles of one
// backend role of one route, over the last few seconds.
//
// Contract:
// - Record() adds one answer of the backend (latency, error = 5xx or no
//   answer), `mirrored` when it answered a mirrored copy rather than serving
//   the client.
// - The window is `seconds` one-second slots keyed by clock second; a slot is
//   reused (cleared) when its second comes round again. Snapshot() sums the
//   slots of the last `seconds` seconds: rps / mirrored_rps = served /
//   mirrored answers of the complete seconds among them / their number (the
//   current, partial second is left out so the rate does not dip at every
//   second boundary); error_rate and p50/p99 over all answers of the window
//   including the current second.
// - Latencies land in log-linear buckets (8 per power of two, so a reported
//   percentile is within ~9% of the true value; the bucket's midpoint is
//   reported). No samples: percentiles and rates are nullopt.
// Time: the injected clock's wall time. Threads: thread-safe (one short mutex).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "ficus/clock.h"

namespace ficus::proxy {

// A latency histogram in TrafficWindow's buckets: (bucket, count) pairs,
// ascending by bucket, zero counts left out. Histograms of several windows
// (replicas) merge by adding counts per bucket; percentiles of the merge are
// those of all their samples together (within the bucket precision).
using LatencySketch = std::vector<std::pair<uint16_t, uint64_t>>;

struct TrafficSnapshot {
  std::optional<double> rps;           // answers that served the client, per second
  std::optional<double> mirrored_rps;  // answers to mirrored copies, per second
  std::optional<double> error_rate;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  uint64_t requests = 0;  // in the window
  uint64_t errors = 0;
  LatencySketch latency;  // every answer of the window
};

class TrafficWindow {
 public:
  static constexpr int kBuckets = 8 * 40;

  // Slots follow `clock`'s wall time; it must outlive the window.
  explicit TrafficWindow(const Clock& clock, int seconds = 10);
  void Record(int64_t latency_us, bool error, bool mirrored = false);
  [[nodiscard]] TrafficSnapshot Snapshot() const;

  // The q-quantile (0..1) of a sketch in ms (the bucket's midpoint);
  // nullopt when it is empty.
  static std::optional<double> PercentileMs(const LatencySketch& sketch, double q);
  // Sum of two sketches.
  static LatencySketch Merge(const LatencySketch& a, const LatencySketch& b);

  // Bucket index of a latency and the value a bucket reports (exposed for tests).
  static int BucketOf(int64_t latency_us);
  static double BucketMidUs(int bucket);

 private:
  struct Slot {
    int64_t second = -1;
    uint64_t requests = 0;
    uint64_t errors = 0;
    uint64_t mirrored = 0;
    std::array<uint32_t, kBuckets> hist{};
  };
  const Clock& clock_;
  const int seconds_;
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
};

}  // namespace ficus::proxy
