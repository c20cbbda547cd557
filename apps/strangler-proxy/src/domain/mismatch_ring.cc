#include "domain/mismatch_ring.h"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

namespace ficus::proxy {
namespace {

void Cut(std::string& body, size_t max) {
  if (body.size() <= max) return;
  body.resize(max);
  body += "...";
}

}  // namespace

MismatchRing::MismatchRing(size_t capacity, size_t max_body_bytes)
    : capacity_(std::max<size_t>(1, capacity)), max_body_bytes_(max_body_bytes) {}

MismatchRing::PerRoute& MismatchRing::RouteLocked(std::string_view route) {
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), PerRoute{}).first;
  return it->second;
}

void MismatchRing::RecordMatch(std::string_view route) {
  std::lock_guard<std::mutex> lock(mu_);
  RouteLocked(route).counters.compared++;
}

void MismatchRing::RecordMismatch(MismatchRecord record) {
  Cut(record.legacy_body, max_body_bytes_);
  Cut(record.modern_body, max_body_bytes_);
  std::deque<MismatchRecord> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  PerRoute& r = RouteLocked(record.route);
  r.counters.compared++;
  r.counters.mismatched++;
  record.seq = next_seq_++;
  r.recent.push_back(std::move(record));
  while (r.recent.size() > capacity_) {
    dropped.push_back(std::move(r.recent.front()));
    r.recent.pop_front();
  }
}

std::vector<MismatchRecord> MismatchRing::Recent(std::string_view route, size_t limit) const {
  std::vector<MismatchRecord> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, r] : routes_) {
    if (!route.empty() && name != route) continue;
    out.insert(out.end(), r.recent.begin(), r.recent.end());
  }
  std::sort(out.begin(), out.end(),
            [](const MismatchRecord& a, const MismatchRecord& b) { return a.seq > b.seq; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

MismatchCounters MismatchRing::Counters(std::string_view route) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = routes_.find(route);
  return it == routes_.end() ? MismatchCounters{} : it->second.counters;
}

boost::json::value MismatchToJson(const MismatchRecord& r) {
  namespace json = boost::json;
  json::array diffs;
  for (const FieldDiff& d : r.diffs) {
    json::object o;
    o["path"] = d.path;
    o["legacy"] = d.legacy ? json::value(*d.legacy) : json::value(nullptr);
    o["modern"] = d.modern ? json::value(*d.modern) : json::value(nullptr);
    diffs.push_back(std::move(o));
  }
  json::object o;
  o["seq"] = r.seq;
  o["time"] = r.time_ms;
  o["route"] = r.route;
  o["request_id"] = r.request_id;
  o["user_key"] = r.user_key;
  o["method"] = r.method;
  o["path"] = r.path;
  o["legacy"] = json::object{{"status", r.legacy_status}, {"body", r.legacy_body}};
  o["modern"] = json::object{{"status", r.modern_status}, {"body", r.modern_body}};
  o["diffs"] = std::move(diffs);
  return o;
}

}  // namespace ficus::proxy
