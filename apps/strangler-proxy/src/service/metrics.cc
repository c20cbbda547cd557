#include "service/metrics.h"

#include <cassert>
#include <cstdio>

namespace ficus::proxy {

void Histogram::ObserveUs(int64_t us) {
  if (us < 0) us = 0;
  const double s = static_cast<double>(us) / 1e6;
  std::size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out.push_back(',');
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

MetricsRegistry::Family& MetricsRegistry::GetFamily(const std::string& name,
                                                    const std::string& help, Type type) {
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}, {}, {}});
  assert(it->second.type == type && "metric registered twice with different types");
  return it->second;
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, Type::kCounter).counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, Type::kGauge).gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = GetFamily(name, help, Type::kHistogram).histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>();
  return *slot;
}

namespace {
// Adds le="x" to an already rendered label set.
std::string WithLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n";
    switch (f.type) {
      case Type::kCounter:
        out += "# TYPE " + name + " counter\n";
        for (const auto& [l, c] : f.counters)
          out += name + l + " " + std::to_string(c->Value()) + "\n";
        break;
      case Type::kGauge:
        out += "# TYPE " + name + " gauge\n";
        for (const auto& [l, g] : f.gauges)
          out += name + l + " " + std::to_string(g->Value()) + "\n";
        break;
      case Type::kHistogram:
        out += "# TYPE " + name + " histogram\n";
        for (const auto& [l, h] : f.histograms) {
          uint64_t cum = 0;
          for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
            cum += h->Bucket(i);
            out += name + "_bucket" + WithLe(l, Num(Histogram::kBounds[i])) + " " +
                   std::to_string(cum) + "\n";
          }
          cum += h->Bucket(Histogram::kBounds.size());
          out += name + "_bucket" + WithLe(l, "+Inf") + " " + std::to_string(cum) + "\n";
          out += name;
          out += "_sum";
          out += l;
          out += ' ';
          out += Num(static_cast<double>(h->SumUs()) / 1e6);
          out += '\n';
          out += name;
          out += "_count";
          out += l;
          out += ' ';
          out += std::to_string(cum);
          out += '\n';
        }
        break;
    }
  }
  return out;
}

}  // namespace ficus::proxy
