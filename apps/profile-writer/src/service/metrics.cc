#include "service/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace ficus::writer {
namespace {

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string Join(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return "{" + labels + "," + extra + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, v) * 1e6),
                       std::memory_order_relaxed);
}

std::uint64_t Histogram::BucketCount(std::size_t i) const {
  return buckets_[i].load(std::memory_order_relaxed);
}

double Histogram::Sum() const {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

Counter& MetricsRegistry::AddCounter(std::string name, std::string help, std::string labels) {
  std::lock_guard lock(mu_);
  Counter& c = counters_.emplace_back();
  series_.push_back({std::move(name), std::move(help), "counter", std::move(labels), &c});
  return c;
}

Gauge& MetricsRegistry::AddGauge(std::string name, std::string help, std::string labels) {
  std::lock_guard lock(mu_);
  Gauge& g = gauges_.emplace_back();
  Series s{std::move(name), std::move(help), "gauge", std::move(labels)};
  s.gauge = &g;
  series_.push_back(std::move(s));
  return g;
}

Histogram& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                         std::vector<double> bounds, std::string labels) {
  std::lock_guard lock(mu_);
  Histogram& h = histograms_.emplace_back(std::move(bounds));
  Series s{std::move(name), std::move(help), "histogram", std::move(labels)};
  s.histogram = &h;
  series_.push_back(std::move(s));
  return h;
}

void MetricsRegistry::AddCallbackGauge(std::string name, std::string help,
                                       std::function<double()> fn) {
  std::lock_guard lock(mu_);
  Series s{std::move(name), std::move(help), "gauge", ""};
  s.callback = std::move(fn);
  series_.push_back(std::move(s));
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  // Group series by name, keeping first-registration order of names.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Series*>> by_name;
  for (const auto& s : series_) {
    auto& v = by_name[s.name];
    if (v.empty()) order.push_back(s.name);
    v.push_back(&s);
  }
  std::string out;
  for (const auto& name : order) {
    const auto& group = by_name[name];
    out += "# HELP " + name + " " + group.front()->help + "\n";
    out += "# TYPE " + name + " " + group.front()->type + "\n";
    for (const Series* s : group) {
      std::string lbl = s->labels.empty() ? "" : "{" + s->labels + "}";
      if (s->counter) {
        out += name + lbl + " " + std::to_string(s->counter->Value()) + "\n";
      } else if (s->gauge) {
        out += name + lbl + " " + std::to_string(s->gauge->Value()) + "\n";
      } else if (s->callback) {
        out += name + lbl + " " + FormatNumber(s->callback()) + "\n";
      } else if (s->histogram) {
        const Histogram& h = *s->histogram;
        std::uint64_t cum = 0;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cum += h.BucketCount(i);
          std::string le = i < h.bounds().size() ? FormatNumber(h.bounds()[i]) : "+Inf";
          out += name + "_bucket" + Join(s->labels, "le=\"" + le + "\"") + " " +
                 std::to_string(cum) + "\n";
        }
        out += name;
        out += "_sum";
        out += lbl;
        out += " ";
        out += FormatNumber(h.Sum());
        out += "\n";
        out += name;
        out += "_count";
        out += lbl;
        out += " ";
        out += std::to_string(h.Count());
        out += "\n";
      }
    }
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
}

}  // namespace ficus::writer
