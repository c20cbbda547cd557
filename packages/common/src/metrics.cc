#include "ficus/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace ficus {
namespace {

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Adds le="x" to an already rendered label set.
std::string WithLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

// Appends one sample line: `<name><suffix><labels> <value>\n`, without the
// temporaries a chain of operator+ would build (Render runs on every scrape).
void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view value) {
  out.append(name).append(suffix).append(labels).append(" ").append(value).append("\n");
}

const char* TypeName(int type) {
  static constexpr const char* kNames[] = {"counter", "gauge", "histogram"};
  return kNames[type];
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                          bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, v) * 1e6),
                       std::memory_order_relaxed);
}

double Histogram::Sum() const {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out.push_back('\\');
        out.push_back(c);
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

MetricsRegistry::Series& MetricsRegistry::SeriesLocked(std::string_view name, std::string_view help,
                                                       Type type, const Labels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}, {}}).first;
  }
  assert(it->second.type == type && "metric registered twice with different types");
  assert(!it->second.collect && "a computed family has no other series");
  return it->second.series[RenderLabels(labels)];
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = SeriesLocked(name, help, Type::kCounter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = SeriesLocked(name, help, Type::kGauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const Labels& labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  Series& s = SeriesLocked(name, help, Type::kHistogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void MetricsRegistry::AddHistogram(std::string_view name, std::string_view help, const Histogram& h,
                                   const Labels& labels) {
  std::lock_guard lock(mu_);
  Series& s = SeriesLocked(name, help, Type::kHistogram, labels);
  assert(!s.histogram && "a series is either the registry's or shown from elsewhere");
  s.shown = &h;
}

void MetricsRegistry::AddCallbackGauge(std::string_view name, std::string_view help,
                                       std::function<double()> fn, const Labels& labels) {
  std::lock_guard lock(mu_);
  SeriesLocked(name, help, Type::kGauge, labels).callback = std::move(fn);
}

void MetricsRegistry::AddCallbackCounter(std::string_view name, std::string_view help,
                                         std::function<double()> fn, const Labels& labels) {
  std::lock_guard lock(mu_);
  SeriesLocked(name, help, Type::kCounter, labels).callback = std::move(fn);
}

void MetricsRegistry::AddFamily(std::string_view name, std::string_view help, Type type,
                                std::function<std::vector<Sample>()> fn) {
  std::lock_guard lock(mu_);
  auto [it, added] =
      families_.emplace(std::string(name), Family{type, std::string(help), {}, std::move(fn)});
  assert(added && "a computed family is registered once, under a name of its own");
  (void)it;
  (void)added;
}

void MetricsRegistry::AddCounterFamily(std::string_view name, std::string_view help,
                                       std::function<std::vector<Sample>()> fn) {
  AddFamily(name, help, Type::kCounter, std::move(fn));
}

void MetricsRegistry::AddGaugeFamily(std::string_view name, std::string_view help,
                                     std::function<std::vector<Sample>()> fn) {
  AddFamily(name, help, Type::kGauge, std::move(fn));
}

std::string MetricsRegistry::Render() const {
  // What to render is copied under the lock; the numbers are read and the
  // callbacks run after it is released (a callback may take a lock that a
  // thread registering a series holds, e.g. the proxy's live config during a
  // reload). Families and series are never removed and their fields are set
  // once, under the lock, before anyone can see them: the pointers stay valid.
  struct Row {
    const std::string* labels;
    const Series* series;
    std::function<double()> callback;
  };
  struct Fam {
    const std::string* name;
    const Family* family;
    std::function<std::vector<Sample>()> collect;
    std::vector<Row> rows;
  };
  std::vector<Fam> fams;
  {
    std::lock_guard lock(mu_);
    fams.reserve(families_.size());
    for (const auto& [name, f] : families_) {
      Fam x{&name, &f, f.collect, {}};
      x.rows.reserve(f.series.size());
      for (const auto& [labels, s] : f.series) x.rows.push_back({&labels, &s, s.callback});
      fams.push_back(std::move(x));
    }
  }
  std::string out;
  out.reserve(4096);
  for (const Fam& fam : fams) {
    const std::string& name = *fam.name;
    const Family& f = *fam.family;
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + TypeName(static_cast<int>(f.type)) + "\n";
    if (fam.collect) {
      for (const Sample& x : fam.collect()) {
        AppendSample(out, name, "", RenderLabels(x.labels), FormatNumber(x.value));
      }
      continue;
    }
    for (const Row& row : fam.rows) {
      const std::string& labels = *row.labels;
      const Series& s = *row.series;
      if (row.callback) {
        AppendSample(out, name, "", labels, FormatNumber(row.callback()));
      } else if (s.counter) {
        AppendSample(out, name, "", labels, std::to_string(s.counter->Value()));
      } else if (s.gauge) {
        AppendSample(out, name, "", labels, std::to_string(s.gauge->Value()));
      } else if (s.histogram || s.shown) {
        const Histogram& h = s.histogram ? *s.histogram : *s.shown;
        std::uint64_t cum = 0;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cum += h.BucketCount(i);
          const std::string le = i < h.bounds().size() ? FormatNumber(h.bounds()[i]) : "+Inf";
          AppendSample(out, name, "_bucket", WithLe(labels, le), std::to_string(cum));
        }
        AppendSample(out, name, "_sum", labels, FormatNumber(h.Sum()));
        AppendSample(out, name, "_count", labels, std::to_string(cum));
      }
    }
  }
  return out;
}

}  // namespace ficus
