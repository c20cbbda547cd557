#include "domain/traffic_window.h"

#include <bit>
#include <cmath>

namespace ficus::proxy {

TrafficWindow::TrafficWindow(const Clock& clock, int seconds)
    : clock_(clock), seconds_(seconds < 2 ? 2 : seconds), slots_(seconds_) {}

int TrafficWindow::BucketOf(int64_t latency_us) {
  if (latency_us < 8) return latency_us < 0 ? 0 : static_cast<int>(latency_us);
  const auto v = static_cast<uint64_t>(latency_us);
  const int octave = static_cast<int>(std::bit_width(v)) - 1;  // >= 3
  const int sub = static_cast<int>((v >> (octave - 3)) & 7);   // next three bits
  const int b = octave * 8 + sub - 16;                         // octave 3 starts at bucket 8
  return b >= kBuckets ? kBuckets - 1 : b;
}

double TrafficWindow::BucketMidUs(int bucket) {
  if (bucket < 8) return bucket;
  const int octave = (bucket + 16) / 8;
  const int sub = (bucket + 16) % 8;
  const double lo = std::ldexp(8 + sub, octave - 3);
  const double width = std::ldexp(1, octave - 3);
  return lo + width / 2;
}

void TrafficWindow::Record(int64_t latency_us, bool error, bool mirrored) {
  const int64_t sec = UnixMillis(clock_.Wall()) / 1000;
  std::lock_guard lock(mu_);
  Slot& s = slots_[static_cast<size_t>(sec % seconds_)];
  if (s.second != sec) {
    s = Slot{};
    s.second = sec;
  }
  s.requests++;
  if (error) s.errors++;
  if (mirrored) s.mirrored++;
  s.hist[static_cast<size_t>(BucketOf(latency_us))]++;
}

TrafficSnapshot TrafficWindow::Snapshot() const {
  const int64_t now_sec = UnixMillis(clock_.Wall()) / 1000;
  TrafficSnapshot out;
  std::array<uint64_t, kBuckets> hist{};
  uint64_t complete_requests = 0;
  uint64_t complete_mirrored = 0;
  {
    std::lock_guard lock(mu_);
    for (const Slot& s : slots_) {
      if (s.second < 0 || s.second > now_sec || s.second <= now_sec - seconds_) continue;
      out.requests += s.requests;
      out.errors += s.errors;
      if (s.second < now_sec) {
        complete_requests += s.requests;
        complete_mirrored += s.mirrored;
      }
      for (int i = 0; i < kBuckets; ++i)
        hist[static_cast<size_t>(i)] += s.hist[static_cast<size_t>(i)];
    }
  }
  out.rps = static_cast<double>(complete_requests - complete_mirrored) / (seconds_ - 1);
  out.mirrored_rps = static_cast<double>(complete_mirrored) / (seconds_ - 1);
  if (out.requests == 0) return out;
  out.error_rate = static_cast<double>(out.errors) / static_cast<double>(out.requests);
  for (int i = 0; i < kBuckets; ++i) {
    if (hist[static_cast<size_t>(i)]) {
      out.latency.emplace_back(static_cast<uint16_t>(i), hist[static_cast<size_t>(i)]);
    }
  }
  out.p50_ms = PercentileMs(out.latency, 0.50);
  out.p99_ms = PercentileMs(out.latency, 0.99);
  return out;
}

std::optional<double> TrafficWindow::PercentileMs(const LatencySketch& sketch, double q) {
  uint64_t total = 0;
  for (const auto& [b, n] : sketch) total += n;
  if (total == 0) return std::nullopt;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (const auto& [b, n] : sketch) {
    seen += n;
    if (seen >= rank) return BucketMidUs(b < kBuckets ? b : kBuckets - 1) / 1000.0;
  }
  return BucketMidUs(kBuckets - 1) / 1000.0;
}

LatencySketch TrafficWindow::Merge(const LatencySketch& a, const LatencySketch& b) {
  LatencySketch out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].first < a[i].first) {
      out.push_back(b[j++]);
    } else {
      out.emplace_back(a[i].first, a[i].second + b[j].second);
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace ficus::proxy
