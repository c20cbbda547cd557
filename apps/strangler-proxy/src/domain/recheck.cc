#include "domain/recheck.h"

namespace ficus::proxy {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const unsigned char c : s) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsRead(const Route& r) {
  return r.method == "GET" && !r.prefix;
}

}  // namespace

const Route* RecheckRoute(const Config& cfg, const Route& route) {
  if (route.compare.recheck_ms == 0 || route.cohort.empty()) return nullptr;
  if (IsRead(route)) return &route;
  if (!route.compare.recheck_via.empty()) {
    const Route* via = cfg.FindRoute(route.compare.recheck_via);
    return via && IsRead(*via) && via->cohort == route.cohort ? via : nullptr;
  }
  for (const auto& r : cfg.routes) {
    if (IsRead(r) && r.cohort == route.cohort) return &r;
  }
  return nullptr;
}

std::optional<RecheckRead> PlanRecheck(const Config& cfg, const Route& route,
                                       std::string_view user_key) {
  const Route* via = RecheckRoute(cfg, route);
  if (!via || user_key.empty()) return std::nullopt;
  const Cohort* cohort = cfg.FindCohort(via->cohort);
  if (!cohort) return std::nullopt;
  RecheckRead read;
  std::string query;
  for (const auto& k : cohort->key) {
    if (k.kind == KeySource::Kind::kQuery && query.empty()) {
      query = "?" + PercentEncode(k.name) + "=" + PercentEncode(user_key);
    } else if (k.kind == KeySource::Kind::kHeader) {
      read.headers.emplace_back(k.name, std::string(user_key));
    }
  }
  if (query.empty() && read.headers.empty()) return std::nullopt;  // JSON-body keys only
  read.via_route = via->name;
  read.legacy_backend = via->legacy_backend;
  read.modern_backend = via->modern_backend;
  read.legacy_target = (via->legacy_rewrite.empty() ? via->path : via->legacy_rewrite) + query;
  read.modern_target = (via->modern_rewrite.empty() ? via->path : via->modern_rewrite) + query;
  return read;
}

RecheckVerdict RecheckVerdictFor(const RecheckObservation& o) {
  if (!o.user_busy && o.answered && !o.differ) return RecheckVerdict::kTransient;
  if (o.tries_left > 0) return RecheckVerdict::kRetry;
  return o.user_busy ? RecheckVerdict::kPending : RecheckVerdict::kReport;
}

}  // namespace ficus::proxy
