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

json::array EncodeSketch(const LatencySketch& s) {
  json::array a;
  a.reserve(s.size());
  for (const auto& [b, n] : s) a.push_back(json::array{b, n});
  return a;
}

// [[bucket,count],...]; pairs out of range or malformed are an error naming the key.
Result<LatencySketch> DecodeSketch(const json::object& o, std::string_view f,
                                   const std::string& where) {
  LatencySketch out;
  const auto* v = o.if_contains(f);
  if (!v || v->is_null()) return out;
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     where + "." + std::string(f) + ": want [[bucket,count],...]");
  };
  if (!v->is_array()) return bad();
  for (const auto& p : v->get_array()) {
    if (!p.is_array() || p.get_array().size() != 2) return bad();
    const auto& a = p.get_array();
    if (!a[0].is_number() || !a[1].is_number()) return bad();
    boost::system::error_code ec1, ec2;
    const auto b = a[0].to_number<int64_t>(ec1);
    const auto n = a[1].to_number<uint64_t>(ec2);
    if (ec1 || ec2 || b < 0 || b >= TrafficWindow::kBuckets) return bad();
    if (!out.empty() && out.back().first >= b) return bad();  // ascending, no repeats
    if (n) out.emplace_back(static_cast<uint16_t>(b), n);
  }
  return out;
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
                                {"backlog_to_modern", s.backlog_to_modern},
                                {"served", s.served},
                                {"legacy_answers", s.legacy_answers},
                                {"legacy_answer_errors", s.legacy_answer_errors},
                                {"modern_answers", s.modern_answers},
                                {"modern_answer_errors", s.modern_answer_errors},
                                {"skipped", s.skipped},
                                {"legacy_latency", EncodeSketch(s.legacy_latency)},
                                {"modern_latency", EncodeSketch(s.modern_latency)}};
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
      s.served = Count(x, "served");
      s.legacy_answers = Count(x, "legacy_answers");
      s.legacy_answer_errors = Count(x, "legacy_answer_errors");
      s.modern_answers = Count(x, "modern_answers");
      s.modern_answer_errors = Count(x, "modern_answer_errors");
      s.skipped = Count(x, "skipped");
      const std::string where = std::string(key) + ".routes." + std::string(kv.key());
      auto ll = DecodeSketch(x, "legacy_latency", where);
      if (!ll) return tl::unexpected(ll.error());
      auto ml = DecodeSketch(x, "modern_latency", where);
      if (!ml) return tl::unexpected(ml.error());
      s.legacy_latency = std::move(*ll);
      s.modern_latency = std::move(*ml);
      r.routes.emplace(std::string(kv.key()), s);
    }
  }
  return r;
}

ReplicaRouteStats FleetTotal(const std::vector<ReplicaReport>& reports, std::string_view route,
                             std::string_view except_id) {
  ReplicaRouteStats t;
  for (const auto& r : reports) {
    if (!except_id.empty() && r.id == except_id) continue;
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
    t.served += s.served;
    t.legacy_answers += s.legacy_answers;
    t.legacy_answer_errors += s.legacy_answer_errors;
    t.modern_answers += s.modern_answers;
    t.modern_answer_errors += s.modern_answer_errors;
    t.skipped += s.skipped;
    t.legacy_latency = TrafficWindow::Merge(t.legacy_latency, s.legacy_latency);
    t.modern_latency = TrafficWindow::Merge(t.modern_latency, s.modern_latency);
  }
  return t;
}

}  // namespace ficus::proxy
