// MetricsRegistry: the one metrics registry of every Ficus service, rendered
// as Prometheus text exposition (format 0.0.4) on /metrics.
//
// Naming: ficus_<app>_<what>[_<unit>] — ficus_proxy_, ficus_writer_,
// ficus_migrator_. A running total is a counter and its name ends in _total;
// a gauge is a level that goes up and down; durations are histograms in
// seconds (_seconds).
//
// Contract: Get*() creates a series (name + labels) on first use and returns
// a reference that stays valid for the registry's lifetime; a second call
// with the same name and labels returns the same series (series are never
// removed, so a config reload keeps counting into them). A name has one type
// and one help text (asserted). Get*() takes a mutex: call it at setup or
// reload and keep the reference; updates are lock-free (relaxed atomics) and
// safe from any thread. Render() may run concurrently with updates: each
// number is read atomically, a scrape is not a consistent snapshot across
// series. Callbacks run inside Render(), on the scraping thread, without the
// registry's lock: a callback may take locks that are held around Get*()
// calls elsewhere (a config reload registering per-route series), and may
// call the registry itself.
//
// A module declares its fixed metrics in one place, Envoy's ALL_X_STATS
// pattern:
//
//   #define ALL_STORE_METRICS(COUNTER, GAUGE, HISTOGRAM)
//     COUNTER(write_errors_total, "Failed batch writes.")
//     GAUGE(write_queue_depth, "Updates queued.")
//     HISTOGRAM(wal_sync_seconds, "Each synced write.", LatencyBuckets())
//   (one macro, its lines joined with backslashes)
//   struct StoreMetrics {
//     FICUS_METRIC_FIELDS(ALL_STORE_METRICS)
//   };
//   StoreMetrics m;
//   FICUS_REGISTER_METRICS(ALL_STORE_METRICS, m, registry, "ficus_writer_");
//
// which gives `Counter* write_errors_total` etc., registered as
// ficus_writer_write_errors_total. Series with labels that vary at run time
// (per route, per status) are registered with Get*() in the module's one
// registration function.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ficus {

using Labels = std::vector<std::pair<std::string, std::string>>;

// One series of a family computed at scrape time.
struct Sample {
  Labels labels;
  double value = 0;
};

class Counter {
 public:
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Cumulative histogram over fixed upper bounds (ascending); +Inf implied.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // A duration in microseconds, observed in seconds.
  void ObserveUs(std::int64_t us) { Observe(static_cast<double>(us < 0 ? 0 : us) / 1e6); }
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Not cumulative; i == bounds().size() is the +Inf bucket.
  [[nodiscard]] std::uint64_t BucketCount(std::size_t i) const {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] double Sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micro_{0};  // sum * 1e6, integral so adds are atomic
};

// Latency buckets in seconds, 100 us .. 10 s.
std::vector<double> LatencyBuckets();

class MetricsRegistry {
 public:
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels = {},
                          std::vector<double> bounds = LatencyBuckets());
  // A histogram kept elsewhere (a module's own figures), rendered as this
  // series; `h` must outlive the registry.
  void AddHistogram(std::string_view name, std::string_view help, const Histogram& h,
                    const Labels& labels = {});
  // Values computed at scrape time: a level, or a running total kept
  // elsewhere (rendered as a counter).
  void AddCallbackGauge(std::string_view name, std::string_view help, std::function<double()> fn,
                        const Labels& labels = {});
  void AddCallbackCounter(std::string_view name, std::string_view help, std::function<double()> fn,
                          const Labels& labels = {});
  // A whole family computed at scrape time: its series are what `fn` returns
  // on each scrape, so labels may come and go (per route of the running
  // config, the last GTID applied). For totals and levels kept elsewhere.
  // `fn` runs inside Render() without the registry's lock. One family per
  // name; a name is either this or Get*()/Add*().
  void AddCounterFamily(std::string_view name, std::string_view help,
                        std::function<std::vector<Sample>()> fn);
  void AddGaugeFamily(std::string_view name, std::string_view help,
                      std::function<std::vector<Sample>()> fn);

  [[nodiscard]] std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    const Histogram* shown = nullptr;  // AddHistogram(): owned elsewhere
    std::function<double()> callback;
  };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series;          // key: rendered labels
    std::function<std::vector<Sample>()> collect;  // a family computed at scrape time
  };
  void AddFamily(std::string_view name, std::string_view help, Type type,
                 std::function<std::vector<Sample>()> fn);
  Series& SeriesLocked(std::string_view name, std::string_view help, Type type,
                       const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// `{k="v",...}` with Prometheus escaping (\\, \", \n); "" for no labels.
std::string RenderLabels(const Labels& labels);

}  // namespace ficus

// ALL_X_METRICS helpers (see the header comment).
#define FICUS_METRIC_COUNTER_FIELD(name, help) ::ficus::Counter* name = nullptr;
#define FICUS_METRIC_GAUGE_FIELD(name, help) ::ficus::Gauge* name = nullptr;
#define FICUS_METRIC_HISTOGRAM_FIELD(name, help, bounds) ::ficus::Histogram* name = nullptr;
#define FICUS_METRIC_FIELDS(ALL) \
  ALL(FICUS_METRIC_COUNTER_FIELD, FICUS_METRIC_GAUGE_FIELD, FICUS_METRIC_HISTOGRAM_FIELD)

#define FICUS_METRIC_COUNTER_REGISTER(name, help) \
  ficus_metrics_out_.name =                       \
      &ficus_metrics_registry_.GetCounter(ficus_metrics_prefix_ + #name, help);
#define FICUS_METRIC_GAUGE_REGISTER(name, help) \
  ficus_metrics_out_.name = &ficus_metrics_registry_.GetGauge(ficus_metrics_prefix_ + #name, help);
#define FICUS_METRIC_HISTOGRAM_REGISTER(name, help, bounds) \
  ficus_metrics_out_.name =                                 \
      &ficus_metrics_registry_.GetHistogram(ficus_metrics_prefix_ + #name, help, {}, bounds);
#define FICUS_REGISTER_METRICS(ALL, out, registry, prefix)          \
  do {                                                              \
    auto& ficus_metrics_out_ = (out);                               \
    ::ficus::MetricsRegistry& ficus_metrics_registry_ = (registry); \
    const std::string ficus_metrics_prefix_(prefix);                \
    ALL(FICUS_METRIC_COUNTER_REGISTER, FICUS_METRIC_GAUGE_REGISTER, \
        FICUS_METRIC_HISTOGRAM_REGISTER)                            \
  } while (false)
