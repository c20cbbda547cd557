#include "domain/fallback_detector.h"

#include <algorithm>
#include <cstdio>

namespace ficus::proxy {

FallbackDetector::FallbackDetector(FallbackParams params, const Clock& clock)
    : params_(params), clock_(clock) {
  std::lock_guard<std::mutex> lock(mu_);
  ResizeLocked();
}

void FallbackDetector::ResizeLocked() {
  int64_t window_ms = std::max<int64_t>(1, params_.window_s) * 1000;
  bucket_ms_ = std::max<int64_t>(100, window_ms / 100);
  size_t n = static_cast<size_t>((window_ms + bucket_ms_ - 1) / bucket_ms_);
  buckets_.assign(n, Bucket{});
}

int64_t FallbackDetector::NowLocked() {
  int64_t now = UnixMillis(clock_.Wall());
  if (now < last_now_) now = last_now_;  // clock stepped back: hold time still
  last_now_ = now;
  return now;
}

void FallbackDetector::SumLocked(int64_t now, uint64_t& total, uint64_t& errors) const {
  total = 0;
  errors = 0;
  int64_t window_ms = static_cast<int64_t>(buckets_.size()) * bucket_ms_;
  int64_t current_start = now - now % bucket_ms_;
  for (const Bucket& b : buckets_) {
    // A bucket counts while any part of it is inside (now - window, now].
    if (b.start_ms >= 0 && b.start_ms > current_start - window_ms) {
      total += b.total;
      errors += b.errors;
    }
  }
}

bool FallbackDetector::Record(bool error) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = NowLocked();
  int64_t start = now - now % bucket_ms_;
  Bucket& b =
      buckets_[static_cast<size_t>((start / bucket_ms_) % static_cast<int64_t>(buckets_.size()))];
  if (b.start_ms != start) b = Bucket{start, 0, 0};
  b.total++;
  if (error) b.errors++;
  if (state_.tripped || !params_.enabled) return false;
  uint64_t total = 0, errors = 0;
  SumLocked(now, total, errors);
  if (total < params_.min_requests || total == 0) return false;
  double rate = static_cast<double>(errors) / static_cast<double>(total);
  if (rate <= params_.error_rate) return false;
  state_.tripped = true;
  state_.since_ms = now;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "modern error rate %.3f > %.3f over %u s (%llu/%llu requests)",
                rate, params_.error_rate, params_.window_s, static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(total));
  state_.reason = buf;
  return true;
}

bool FallbackDetector::Tripped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.tripped;
}

FallbackState FallbackDetector::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  FallbackState s = state_;
  SumLocked(std::max(last_now_, UnixMillis(clock_.Wall())), s.window_total, s.window_errors);
  return s;
}

FallbackParams FallbackDetector::Params() const {
  std::lock_guard<std::mutex> lock(mu_);
  return params_;
}

bool FallbackDetector::Trip(int64_t since_ms, std::string reason) {
  std::lock_guard lock(mu_);
  if (state_.tripped) return false;
  state_.tripped = true;
  state_.since_ms = since_ms;
  state_.reason = std::move(reason);
  return true;
}

void FallbackDetector::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = FallbackState{};
  std::fill(buckets_.begin(), buckets_.end(), Bucket{});
}

void FallbackDetector::Configure(FallbackParams params) {
  std::lock_guard<std::mutex> lock(mu_);
  bool resize = params.window_s != params_.window_s;
  params_ = params;
  if (resize) ResizeLocked();
}

}  // namespace ficus::proxy
