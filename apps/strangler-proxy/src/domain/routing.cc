#include "domain/routing.h"

namespace ficus::proxy {

const Route* Match(const Config& cfg, std::string_view method, std::string_view path) {
  for (const auto& r : cfg.routes) {
    if (!r.method.empty() && r.method != method) continue;
    if (r.prefix ? path.starts_with(r.path) : path == r.path) return &r;
  }
  return nullptr;
}

bool IsWrite(std::string_view method) {
  return !(method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE");
}

std::string_view RoleName(Role role) {
  return role == Role::kLegacy ? "legacy" : "modern";
}

std::string_view CohortStateName(CohortState s) {
  switch (s) {
    case CohortState::kNone:
      return "none";
    case CohortState::kOut:
      return "out";
    case CohortState::kIn:
      return "in";
    case CohortState::kForced:
      return "forced";
  }
  return "unknown";
}

namespace {

// Appends the path as sent to the backend of `role` (see RewritePath).
void AppendRewrittenPath(std::string& out, const Route& route, Role role, std::string_view path) {
  const auto& to = role == Role::kLegacy ? route.legacy_rewrite : route.modern_rewrite;
  if (to.empty()) {
    out.append(path);
    return;
  }
  out.append(to);
  if (route.prefix) out.append(path.substr(route.path.size()));
}

}  // namespace

std::string RewritePath(const Route& route, Role role, std::string_view path) {
  std::string out;
  AppendRewrittenPath(out, route, role, path);
  return out;
}

namespace {

// Every request builds one: a single allocation, sized up front.
Target MakeTarget(const Route& route, Role role, std::string_view path, std::string_view query) {
  Target t;
  t.role = role;
  t.backend = role == Role::kLegacy ? route.legacy_backend : route.modern_backend;
  const auto& to = role == Role::kLegacy ? route.legacy_rewrite : route.modern_rewrite;
  t.path.reserve((to.empty() ? 0 : to.size()) + path.size() + 1 + query.size());
  AppendRewrittenPath(t.path, route, role, path);
  if (!query.empty()) {
    t.path.push_back('?');
    t.path.append(query);
  }
  return t;
}

}  // namespace

Decision Decide(const Route& route, std::string_view method, std::string_view path,
                std::string_view query, CohortState cohort) {
  const bool write = IsWrite(method);
  Role primary = Role::kLegacy;
  bool mirror = false;
  switch (route.paused ? Mode::kLegacy : route.mode) {
    case Mode::kLegacy:
      break;
    case Mode::kShadow:
      mirror = true;  // every request, read or write: shadow compares both
      break;
    case Mode::kCanary:
      if (cohort == CohortState::kForced || (cohort == CohortState::kIn && route.percent_bp > 0)) {
        primary = Role::kModern;
      }
      mirror = write || route.mirror.reads;
      break;
    case Mode::kFull:
      primary = Role::kModern;
      mirror = route.mirror.full_to_legacy && (write || route.mirror.reads);
      break;
  }
  Decision d;
  d.primary = MakeTarget(route, primary, path, query);
  if (mirror) {
    d.mirror =
        MakeTarget(route, primary == Role::kLegacy ? Role::kModern : Role::kLegacy, path, query);
  }
  return d;
}

}  // namespace ficus::proxy
