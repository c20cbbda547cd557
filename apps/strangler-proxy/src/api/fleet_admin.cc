#include "api/fleet_admin.h"

#include <boost/json.hpp>

#include "domain/traffic_window.h"

namespace ficus::proxy {

namespace {

// A percentile of a latency histogram for the admin JSON (null: no answers).
boost::json::value Ms(const LatencySketch& sketch, double q) {
  auto v = TrafficWindow::PercentileMs(sketch, q);
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

}  // namespace

uint64_t FleetAdmin::Backlog(const std::string& route, const std::string& backend) const {
  uint64_t sum = 0;
  const auto cfg = config_.Configured();
  const Route* r = nullptr;
  for (const auto& x : cfg->routes) {
    if (x.name == route) r = &x;
  }
  if (!r) return sum;
  for (const auto& rep : fleet_.Replicas()) {
    if (rep.id == replica_id_) continue;  // this replica's own backlog is counted live
    auto it = rep.routes.find(route);
    if (it == rep.routes.end()) continue;
    if (backend == r->legacy_backend) sum += it->second.backlog_to_legacy;
    if (backend == r->modern_backend) sum += it->second.backlog_to_modern;
  }
  return sum;
}

boost::json::value FleetAdmin::RouteJson(const std::string& route) const {
  auto reps = fleet_.Replicas();
  boost::json::array rows;
  for (const auto& rep : reps) {
    auto it = rep.routes.find(route);
    if (it == rep.routes.end()) continue;
    const auto& x = it->second;
    rows.push_back(boost::json::object{{"replica", rep.id},
                                       {"admin", rep.admin},
                                       {"at", rep.at_ms},
                                       {"legacy_rps", x.legacy_rps},
                                       {"modern_rps", x.modern_rps},
                                       {"compared", x.compared},
                                       {"mismatched", x.mismatched},
                                       {"backlog_to_legacy", x.backlog_to_legacy},
                                       {"backlog_to_modern", x.backlog_to_modern},
                                       {"legacy_p50_ms", Ms(x.legacy_latency, 0.50)},
                                       {"legacy_p99_ms", Ms(x.legacy_latency, 0.99)},
                                       {"modern_p50_ms", Ms(x.modern_latency, 0.50)},
                                       {"modern_p99_ms", Ms(x.modern_latency, 0.99)}});
  }
  const auto t = FleetTotal(reps, route);
  return boost::json::object{
      {"replicas", std::move(rows)},
      {"totals", boost::json::object{{"replicas", reps.size()},
                                     {"legacy_rps", t.legacy_rps},
                                     {"modern_rps", t.modern_rps},
                                     {"compared", t.compared},
                                     {"mismatched", t.mismatched},
                                     {"backlog_to_legacy", t.backlog_to_legacy},
                                     {"backlog_to_modern", t.backlog_to_modern},
                                     // Of the merged histograms: every replica's answers.
                                     {"legacy_p50_ms", Ms(t.legacy_latency, 0.50)},
                                     {"legacy_p99_ms", Ms(t.legacy_latency, 0.99)},
                                     {"modern_p50_ms", Ms(t.modern_latency, 0.50)},
                                     {"modern_p99_ms", Ms(t.modern_latency, 0.99)}}}};
}

boost::json::value FleetAdmin::ControlJson() const {
  const int64_t down = fleet_.down_since_ms();
  return boost::json::object{
      {"store", "etcd"},
      {"replica", replica_id_},
      {"connected", fleet_.connected()},
      {"down_since", down ? boost::json::value(down) : boost::json::value(nullptr)},
      {"revision", fleet_.State().revision},
      {"replicas", fleet_.Replicas().size()}};
}

}  // namespace ficus::proxy
