// Metrics registry with hand-written Prometheus text exposition (0.0.4).
//
// Counters, gauges and histograms are lock-free on the hot path (relaxed
// atomics); registration happens at startup, before any thread observes.
// Objects returned by the registry live as long as the registry.
// Render() may run concurrently with updates: each number is read
// atomically, a scrape is not a consistent snapshot across series.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ficus::writer {

class Counter {
 public:
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Cumulative histogram over fixed upper bounds (ascending); +Inf implied.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  std::uint64_t BucketCount(std::size_t i) const;  // not cumulative; i == bounds.size() is +Inf
  std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micro_{0};  // sum * 1e6, integral so adds are atomic
};

class MetricsRegistry {
 public:
  // Labels are given as one preformatted string, e.g. R"(route="update",status="200")",
  // or "" for none. Series sharing a name must share help and type.
  Counter& AddCounter(std::string name, std::string help, std::string labels = "");
  Gauge& AddGauge(std::string name, std::string help, std::string labels = "");
  Histogram& AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                          std::string labels = "");
  // A gauge computed at scrape time.
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> fn);

  std::string Render() const;

 private:
  struct Series {
    std::string name, help, type, labels;
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Histogram* histogram = nullptr;
    std::function<double()> callback;
  };
  mutable std::mutex mu_;  // guards registration vs. render, not observations
  std::vector<Series> series_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
};

// Default latency buckets in seconds (100 us .. 5 s).
std::vector<double> LatencyBuckets();

}  // namespace ficus::writer
