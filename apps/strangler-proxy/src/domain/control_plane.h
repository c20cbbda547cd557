// ControlPlane: the live, per-route migration state the proxy keeps beside
// its immutable config: response comparison (JsonDiffer with the route's
// compare.ignore), counters and recent mismatches (MismatchRing), auto-
// fallback (FallbackDetector on modern outcomes) and live traffic figures of
// both backends (TrafficWindow).
//
// Contract:
// - Configure(cfg) is called for every config the proxy takes (first load and
//   reloads). Route state (windows, detectors, counters) survives reloads by
//   route name; a bad compare.ignore pattern fails with its key path
//   ("routes[i].compare.ignore[j]: ...") and changes nothing.
// - Modern outcomes count for fallback only while the route's configured
//   mode is canary or full (modern serves users) and fallback is enabled.
//   RecordModern() returns true exactly once per trip. A tripped route stays
//   tripped until ResetFallback() (operator), across reloads.
// - Effective(cfg): the config the proxy must run: a copy of `cfg` in which
//   every canary/full route whose route group (domain/route_group.h) has a
//   tripped route runs as shadow (legacy serves everyone, writes keep being
//   mirrored to modern and replayed once it is back). A trip moves the whole
//   group: a user's reads never stay on modern while its writes fall back.
// - Tripped(route) is true when any route of its group tripped;
//   ResetFallback(route) resets the whole group.
// - Compare() = Diff() then Report(): Diff() counts an equal pair as
//   compared and returns the mismatch record of an unequal pair WITHOUT
//   counting it, so the caller can hold it for a re-check
//   (domain/recheck.h) and then Report() it (counted and kept) or
//   RecordTransient() it (counted as not compared, reason transient).
//   Differs() compares two answers under a route's rules, counting nothing.
// - Unknown route names are ignored by the Record*/Compare calls.
// No I/O, no logging. Threads: every method is thread-safe; the Record*
// calls take a shared lock plus the route's own short locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/config.h"
#include "domain/fallback_detector.h"
#include "domain/json_diff.h"
#include "domain/mismatch_ring.h"
#include "domain/traffic_window.h"
#include "ficus/clock.h"
#include "ficus/result.h"

namespace ficus::proxy {

// Cumulative answers since the process started (the autopilot's gate window
// is built from differences of these).
struct RouteTotals {
  uint64_t served = 0;  // answers that served the client (either backend)
  uint64_t legacy_answers = 0;
  uint64_t legacy_errors = 0;
  uint64_t modern_answers = 0;  // served + mirrored
  uint64_t modern_errors = 0;
};

struct RouteLive {
  RouteTotals totals;
  TrafficSnapshot legacy;
  TrafficSnapshot modern;
  MismatchCounters mismatch;
  uint64_t compare_skipped = 0;  // not compared: raced with a write of the user, or too large
  // Of those, not compared because the primary's answer was larger than the
  // route's compare.max_bytes ("not compared: too large").
  uint64_t compare_too_large = 0;
  // Of those, differences that were gone when the user was read again from
  // both sides (a write still in transit to one side: RecordTransient).
  uint64_t compare_transient = 0;
  FallbackState fallback;
  FallbackParams fallback_params;
};

struct CompareInput {
  std::string_view route;
  std::string_view request_id;
  std::string_view user_key;
  std::string_view method;
  std::string_view path;
  HttpAnswer legacy;
  HttpAnswer modern;
};

class ControlPlane {
 public:
  // `clock` must outlive the control plane.
  explicit ControlPlane(const Clock& clock = SystemClock::Instance(),
                        size_t mismatch_capacity = 100);

  Status Configure(const Config& cfg);

  // True when the answers differ (the mismatch is then counted and kept).
  bool Compare(const CompareInput& in);
  std::optional<MismatchRecord> Diff(const CompareInput& in);
  void Report(MismatchRecord record);
  void RecordTransient(std::string_view route);
  [[nodiscard]] bool Differs(std::string_view route, const HttpAnswer& legacy,
                             const HttpAnswer& modern) const;
  // A comparison left out because it raced with a write (see WriteTracker),
  // or (`too_large`) because the primary's answer exceeded compare.max_bytes.
  void RecordSkipped(std::string_view route, bool too_large = false);
  // One answer of a backend: served the client (primary) or a mirrored copy.
  void RecordPrimary(std::string_view route, bool modern, int64_t latency_us, bool error,
                     bool mirrored = false);
  bool RecordModern(std::string_view route, bool error);

  [[nodiscard]] std::optional<RouteLive> Live(std::string_view route) const;
  [[nodiscard]] bool Tripped(std::string_view route) const;
  Status ResetFallback(std::string_view route);  // kNotFound for an unknown route
  // A fallback tripped by another replica of the fleet (see
  // FallbackDetector::Trip). False for an unknown or already tripped route.
  bool Trip(std::string_view route, int64_t since_ms, std::string reason);

  [[nodiscard]] std::shared_ptr<const Config> Effective(
      const std::shared_ptr<const Config>& cfg) const;

  [[nodiscard]] const MismatchRing& mismatches() const { return ring_; }
  [[nodiscard]] int64_t NowMs() const { return UnixMillis(clock_.Wall()); }

 private:
  struct RouteCtl {
    RouteCtl(const Clock& clock, FallbackParams p)
        : detector(p, clock), legacy(clock), modern(clock) {}
    std::atomic<std::shared_ptr<const JsonDiffer>> differ;
    std::atomic<bool> watch_modern{false};
    std::atomic<uint64_t> skipped{0};
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> answers[2] = {0, 0};  // [modern]
    std::atomic<uint64_t> errors[2] = {0, 0};
    std::atomic<uint64_t> too_large{0};
    std::atomic<uint64_t> transient{0};
    FallbackDetector detector;
    TrafficWindow legacy;
    TrafficWindow modern;
  };
  RouteCtl* Find(std::string_view route) const;  // caller holds mu_ (shared)
  bool GroupTrippedLocked(std::string_view route) const;

  const Clock& clock_;
  MismatchRing ring_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<RouteCtl>, std::less<>> routes_;
  std::map<std::string, std::vector<std::string>, std::less<>> group_of_;  // route -> its group
};

}  // namespace ficus::proxy
