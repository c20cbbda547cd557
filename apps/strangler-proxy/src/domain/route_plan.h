// RoutePlan: where one request goes, decided from its route and its own
// facts (method, path, query, headers, and the body once it is read).
//
// The one cohort rule (proxy and fuzz target both call PlanRoute):
//   - the cohort is consulted when the route is in canary mode and not
//     paused, or when the mirror sink keeps bodies (`want_bodies`: it needs
//     the user key, e.g. for read-your-writes) and the route's configured
//     mode is not legacy;
//   - in an unpaused canary, "X-Canary-User: true" (any case) forces the
//     modern side, whatever the key says;
//   - else the first key the cohort's sources find decides: bucket <
//     percent -> in, else out; no key -> none (legacy).
// Decide() (routing.h) then gives the primary and the optional mirror.
//
// needs_whole_body: the body must be read whole before anything is sent,
// because the request is mirrored (the copy needs the bytes) or its cohort
// key may come from the JSON body. Planned from the head alone
// (`body` = nullopt) it answers "may the body be streamed?"; when it is
// false, planning again with the body gives the same plan.
//
// Pure; no I/O; thread-safe. Views in RequestFacts must outlive the call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/config.h"
#include "domain/routing.h"

namespace ficus::proxy {

inline constexpr std::string_view kCanaryHeader = "X-Canary-User";

// The facts of one request the plan may read.
struct RequestFacts {
  std::string_view method;
  std::string_view target;  // as received (path + query): where an unrouted request goes
  std::string_view path;
  std::string_view query;  // without '?'
  // Value of a header (case-insensitive name), or nullopt.
  std::function<std::optional<std::string_view>(std::string_view)> header;
  std::optional<std::string_view> body;  // nullopt: not read yet (planning from the head)
};

struct RoutePlan {
  CohortState cohort = CohortState::kNone;
  std::string cohort_key;  // normalized; empty when none was consulted or found
  Role primary_role = Role::kLegacy;
  std::string primary_target;  // path + query for the primary backend
  std::optional<Target> mirror;
  bool needs_whole_body = false;
};

// `route` nullptr (no route matched): the default backend as legacy, target
// untouched, never mirrored. `cohort` is the route's cohort (nullptr: none).
RoutePlan PlanRoute(const Route* route, const Cohort* cohort, const RequestFacts& request,
                    bool want_bodies);

}  // namespace ficus::proxy
