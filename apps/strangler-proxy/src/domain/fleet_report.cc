#include "domain/fleet_report.h"

#include <boost/json.hpp>

namespace ficus::proxy {
namespace json = boost::json;

namespace {

double Num(const json::object& o, std::string_view f) {
  const auto* v = o.if_contains(f);
  if (!v) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return 0;
}

uint64_t Count(const json::object& o, std::string_view f) {
  const double d = Num(o, f);
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

}  // namespace

std::string EncodeReplicaReport(const ReplicaReport& r) {
  json::object routes;
  for (const auto& [name, s] : r.routes) {
    routes[name] = json::object{{"legacy_rps", s.legacy_rps},
                                {"modern_rps", s.modern_rps},
                                {"legacy_requests", s.legacy_requests},
                                {"legacy_errors", s.legacy_errors},
                                {"modern_requests", s.modern_requests},
                                {"modern_errors", s.modern_errors},
                                {"compared", s.compared},
                                {"mismatched", s.mismatched},
                                {"backlog_to_legacy", s.backlog_to_legacy},
                                {"backlog_to_modern", s.backlog_to_modern}};
  }
  return json::serialize(json::object{
      {"id", r.id}, {"admin", r.admin}, {"at", r.at_ms}, {"routes", std::move(routes)}});
}

Result<ReplicaReport> DecodeReplicaReport(std::string_view text, std::string_view key) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(key) + ": not a JSON object");
  }
  const auto& o = v.get_object();
  ReplicaReport r;
  if (const auto* id = o.if_contains("id"); id && id->is_string()) r.id = id->get_string();
  if (const auto* a = o.if_contains("admin"); a && a->is_string()) r.admin = a->get_string();
  r.at_ms = static_cast<int64_t>(Num(o, "at"));
  if (const auto* rs = o.if_contains("routes"); rs && rs->is_object()) {
    for (const auto& kv : rs->get_object()) {
      if (!kv.value().is_object()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string(key) + ".routes." + std::string(kv.key()) + ": not an object");
      }
      const auto& x = kv.value().get_object();
      ReplicaRouteStats s;
      s.legacy_rps = Num(x, "legacy_rps");
      s.modern_rps = Num(x, "modern_rps");
      s.legacy_requests = Count(x, "legacy_requests");
      s.legacy_errors = Count(x, "legacy_errors");
      s.modern_requests = Count(x, "modern_requests");
      s.modern_errors = Count(x, "modern_errors");
      s.compared = Count(x, "compared");
      s.mismatched = Count(x, "mismatched");
      s.backlog_to_legacy = Count(x, "backlog_to_legacy");
      s.backlog_to_modern = Count(x, "backlog_to_modern");
      r.routes.emplace(std::string(kv.key()), s);
    }
  }
  return r;
}

ReplicaRouteStats FleetTotal(const std::vector<ReplicaReport>& reports, std::string_view route) {
  ReplicaRouteStats t;
  for (const auto& r : reports) {
    auto it = r.routes.find(route);
    if (it == r.routes.end()) continue;
    const auto& s = it->second;
    t.legacy_rps += s.legacy_rps;
    t.modern_rps += s.modern_rps;
    t.legacy_requests += s.legacy_requests;
    t.legacy_errors += s.legacy_errors;
    t.modern_requests += s.modern_requests;
    t.modern_errors += s.modern_errors;
    t.compared += s.compared;
    t.mismatched += s.mismatched;
    t.backlog_to_legacy += s.backlog_to_legacy;
    t.backlog_to_modern += s.backlog_to_modern;
  }
  return t;
}

}  // namespace ficus::proxy
