// Re-check of a difference before it is reported as a mismatch.
//
// Two answers of one exchange can differ for a moment without either store
// being wrong: a write reached one side first (a SQL write that bypassed
// the proxy and that the binlog follower has not applied yet, a copy still
// in the replay log). The difference is reported only if it is still there
// when the user is read again from both sides a little later.
//
// Contract:
// - RecheckRoute(cfg, route): the read route that re-checks a difference
//   found on `route`: the route itself when it is a read (method GET),
//   else `compare.recheck_via`, else the first GET route of the same
//   cohort with an exact path. nullptr when re-checking is off
//   (`compare.recheck_ms: 0`), the route has no cohort, or no such read
//   route exists.
// - PlanRecheck(cfg, route, user): the read to send to each side: the read
//   route's path (each side's rewrite applied) with the user key put where
//   the read route's cohort reads it (its first `query:` source, percent-
//   encoded, and every `header:` source). nullopt when RecheckRoute is
//   nullptr, the user key is empty, or the cohort reads the key only from
//   a JSON body.
// - RecheckVerdictFor(): what to do with the held mismatch after a re-read:
//   both sides answered alike while the user was not busy -> transient;
//   otherwise read again while tries are left (a follower a little behind,
//   a side restarting); then: still busy -> pending (not compared), else
//   report (still different, or a side never answered).
// Pure, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/config.h"

namespace ficus::proxy {

struct RecheckRead {
  std::string via_route;
  std::string legacy_backend;
  std::string modern_backend;
  std::string legacy_target;  // origin-form: path?query
  std::string modern_target;
  std::vector<std::pair<std::string, std::string>> headers;  // the key headers
};

const Route* RecheckRoute(const Config& cfg, const Route& route);
std::optional<RecheckRead> PlanRecheck(const Config& cfg, const Route& route,
                                       std::string_view user_key);

enum class RecheckVerdict {
  kReport,     // still different (or a side did not answer) at the last try
  kTransient,  // both sides agree now: the difference was a write in transit
  kRetry,      // not settled yet: read again later
  kPending,    // the user was still busy at the last try: not compared (pending write)
};

struct RecheckObservation {
  bool user_busy = false;   // a write of the user in flight / pending replay / just raced
  bool answered = false;    // both reads got a final answer (any status)
  bool differ = false;      // the two answers differ (the read route's compare rules)
  unsigned tries_left = 0;  // re-reads still allowed after this one
};

RecheckVerdict RecheckVerdictFor(const RecheckObservation& o);

}  // namespace ficus::proxy
