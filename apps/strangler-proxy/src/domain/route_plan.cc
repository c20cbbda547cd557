#include "domain/route_plan.h"

#include "domain/cohort.h"

namespace ficus::proxy {

namespace {

bool IsTrue(std::string_view v) {
  constexpr std::string_view kTrue = "true";
  if (v.size() != kTrue.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
    if (c != kTrue[i]) return false;
  }
  return true;
}

}  // namespace

RoutePlan PlanRoute(const Route* route, const Cohort* cohort, const RequestFacts& request,
                    bool want_bodies) {
  RoutePlan plan;
  if (!route) {
    plan.primary_target = std::string(request.target);
    return plan;
  }
  const bool canary = route->mode == Mode::kCanary && !route->paused;
  if (canary) {
    if (auto h = request.header(kCanaryHeader); h && IsTrue(*h)) plan.cohort = CohortState::kForced;
  }
  bool key_in_body = false;
  if (cohort && plan.cohort != CohortState::kForced &&
      (canary || (want_bodies && route->mode != Mode::kLegacy))) {
    key_in_body = cohort->NeedsBody();
    KeyInputs in;
    in.header = request.header;
    in.query = request.query;
    in.body = request.body.value_or(std::string_view());
    if (auto k = ExtractCohortKey(*cohort, in)) {
      plan.cohort_key = std::move(*k);
      plan.cohort = InCanary(CohortBucket(cohort->salt, plan.cohort_key), route->percent_bp)
                        ? CohortState::kIn
                        : CohortState::kOut;
    }
  }
  auto d = Decide(*route, request.method, request.path, request.query, plan.cohort);
  plan.primary_role = d.primary.role;
  plan.primary_target = std::move(d.primary.path);
  plan.mirror = std::move(d.mirror);
  plan.needs_whole_body = key_in_body || plan.mirror.has_value();
  return plan;
}

}  // namespace ficus::proxy
