// LogHistogram: HdrHistogram-style latency recording with bounded relative
// error, written here because Debian ships no C/C++ HdrHistogram.
//
// Layout: values below 2^kSubBits (1024) have one bucket each (exact).
// Every power-of-two range [2^k, 2^(k+1)) above that is split into 2^kSubBits
// equal buckets of width 2^(k - kSubBits). So a recorded value v lands in a
// bucket [lo, hi] with hi - lo < v / 1024: every percentile is reported as
// its bucket's highest value, never below the exact percentile and at most
// 0.098% (2^-10) above it. 55 x 1024 buckets cover every uint64 value
// (440 KiB); Record() is a few shifts and one increment.
//
// Percentile(p) uses the nearest-rank definition: the smallest recorded
// value x such that at least ceil(p/100 * count) values are <= x (p = 0 is
// the minimum, p = 100 the maximum). min(), max() and mean() are exact.
//
// Threads: none; one histogram per thread, Merge() them afterwards.
#pragma once

#include <cstdint>
#include <vector>

namespace ficus::bench {

class LogHistogram {
 public:
  static constexpr int kSubBits = 10;

  LogHistogram();

  void Record(std::uint64_t value) { RecordN(value, 1); }
  void RecordN(std::uint64_t value, std::uint64_t n);
  void Merge(const LogHistogram& other);
  void Reset();

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t min() const { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  [[nodiscard]] double mean() const;
  // 0 <= p <= 100; 0 for an empty histogram.
  [[nodiscard]] std::uint64_t Percentile(double p) const;

  // Bucket arithmetic, exposed for tests.
  static std::size_t BucketOf(std::uint64_t value);
  static std::uint64_t BucketLow(std::size_t bucket);
  static std::uint64_t BucketHigh(std::size_t bucket);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace ficus::bench
