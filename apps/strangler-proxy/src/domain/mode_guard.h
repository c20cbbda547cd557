// Mode switch guard: a route change that moves users onto a backend must
// wait until that backend holds every acknowledged write of the route, i.e.
// the replay backlog towards it is empty.
//
// Which backend "gains" users (serves requests it did not serve before):
//   legacy gains: from canary|full to legacy|shadow (rollback), full to
//                 canary, a lower canary percent, pausing a canary|full route;
//   modern gains: to full from anything else (cutover), to canary or a higher
//                 canary percent from legacy|shadow|a lower percent.
// CheckRouteChange() returns nullopt when the change may go ahead, else the
// reason (names the field, the backend and the pending count). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/config.h"

namespace ficus::proxy {

struct RouteShape {
  Mode mode = Mode::kLegacy;
  uint32_t percent_bp = 0;
  bool paused = false;
};

struct GuardBacklog {
  uint64_t to_legacy = 0;
  uint64_t to_modern = 0;
};

bool LegacyGains(const RouteShape& from, const RouteShape& to);
bool ModernGains(const RouteShape& from, const RouteShape& to);

std::optional<std::string> CheckRouteChange(const RouteShape& from, const RouteShape& to,
                                            const GuardBacklog& backlog);

}  // namespace ficus::proxy
