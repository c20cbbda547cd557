// Routing: which route a request matches and where it goes.
//
// Contract: pure functions over an immutable Config; no I/O, thread-safe.
// Match() returns the first route (config order) whose method and path
// match; nullptr means "default backend, untouched". Decide() turns a route
// plus the request's cohort facts into a primary target and an optional
// mirror target, each with the path to send.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/config.h"

namespace ficus::proxy {

const Route* Match(const Config& cfg, std::string_view method, std::string_view path);

// True for methods that change state (everything but GET/HEAD/OPTIONS/TRACE).
bool IsWrite(std::string_view method);

enum class Role { kLegacy, kModern };
std::string_view RoleName(Role role);

// How the request relates to the route's cohort.
enum class CohortState {
  kNone,    // route has no cohort, or no key was found in the request
  kOut,     // key found, user not in the canary share
  kIn,      // key found, user in the canary share
  kForced,  // X-Canary-User: true
};
std::string_view CohortStateName(CohortState s);

struct Target {
  Role role = Role::kLegacy;
  std::string_view backend;  // points into the Route (lives as long as the Config)
  std::string path;          // rewritten path, query appended
};

struct Decision {
  Target primary;
  std::optional<Target> mirror;
};

Decision Decide(const Route& route, std::string_view method, std::string_view path,
                std::string_view query, CohortState cohort);

// Rewrites `path` for `role`: an exact route replaces the path, a prefix route
// replaces the matched prefix. No rewrite configured: path unchanged.
std::string RewritePath(const Route& route, Role role, std::string_view path);

}  // namespace ficus::proxy
