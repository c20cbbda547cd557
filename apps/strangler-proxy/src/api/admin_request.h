// Parsing and validation of admin change requests (PUT /admin/routes/NAME).
//
// Body: a JSON object with any of
//   "mode":    "legacy" | "shadow" | "canary" | "full"
//   "percent": number (or numeric string) 0..100, at most two decimals
//   "paused":  true | false
//   "wait_s":  number 0..300: how long a guarded change may wait for the
//              replay backlog to drain before it is refused (default 10)
// Errors are kInvalidArgument with a message starting with the field name
// ("percent: must be a number from 0 to 100 with at most two decimals",
// "colour: unknown field (allowed: mode|percent|paused|wait_s)",
// "body: ...") so the API can answer 400 naming the field. Pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/route_store.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct RouteChangeRequest {
  RouteChange change;
  uint32_t wait_ms = 10000;
};

Result<RouteChangeRequest> ParseRouteChangeRequest(std::string_view body);

// POST /admin/routes/NAME/reset-fallback: an empty body, or {"wait_s": N}
// (same bounds and default as above). Returns the wait in ms.
Result<uint32_t> ParseResetFallbackRequest(std::string_view body);

}  // namespace ficus::proxy
