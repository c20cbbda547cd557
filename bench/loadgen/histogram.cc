#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace ficus::bench {
namespace {
constexpr std::uint64_t kSub = std::uint64_t{1} << LogHistogram::kSubBits;
// Buckets: kSub exact ones, then kSub per power of two from 2^kSubBits to 2^63.
constexpr std::size_t kBuckets = kSub + (64 - LogHistogram::kSubBits) * kSub;
}  // namespace

LogHistogram::LogHistogram() : counts_(kBuckets, 0) {}

std::size_t LogHistogram::BucketOf(std::uint64_t value) {
  if (value < kSub) return static_cast<std::size_t>(value);
  const int k = 63 - std::countl_zero(value);  // 2^k <= value < 2^(k+1), k >= kSubBits
  const int shift = k - kSubBits;
  const std::uint64_t sub = (value >> shift) - kSub;  // 0 .. kSub-1
  return static_cast<std::size_t>(kSub + static_cast<std::uint64_t>(shift) * kSub + sub);
}

std::uint64_t LogHistogram::BucketLow(std::size_t bucket) {
  if (bucket < kSub) return bucket;
  const std::uint64_t shift = (bucket - kSub) / kSub;
  const std::uint64_t sub = (bucket - kSub) % kSub;
  return (kSub + sub) << shift;
}

std::uint64_t LogHistogram::BucketHigh(std::size_t bucket) {
  if (bucket < kSub) return bucket;
  const std::uint64_t shift = (bucket - kSub) / kSub;
  return BucketLow(bucket) + ((std::uint64_t{1} << shift) - 1);
}

void LogHistogram::RecordN(std::uint64_t value, std::uint64_t n) {
  if (n == 0) return;
  counts_[BucketOf(value)] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * static_cast<long double>(n);
}

void LogHistogram::Merge(const LogHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LogHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LogHistogram::mean() const {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t LogHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  if (p <= 0) return min_;
  if (p >= 100) return max_;
  // Nearest rank: ceil(p/100 * count), at least 1.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The bucket's top, but never beyond what was actually recorded.
      return std::clamp(BucketHigh(i), min_, max_);
    }
  }
  assert(false && "rank beyond count");
  return max_;
}

}  // namespace ficus::bench
