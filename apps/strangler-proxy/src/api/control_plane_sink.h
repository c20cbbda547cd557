// ControlPlaneSink: the MirrorSink of the migration control plane.
//
// What it does with each mirrored exchange (see domain/mirror_sink.h for the
// callback contract):
// - Comparison: in shadow and canary, when both sides answered, the primary
//   and mirror answers (status + JSON body, the route's compare.ignore) are
//   compared by the ControlPlane; mismatches are counted and kept. An answer
//   that may have overtaken a write of the same user on its way to the
//   mirror target (WriteTracker: a write copy in flight, completed during
//   this copy's round trip, or waiting in the replay log) is not compared
//   but counted as skipped: it would be a false mismatch. "Waiting in the
//   replay log" is asked of the log itself (ReplayLog::PendingFor, per
//   user and side), however long the backlog lasts. A difference is held
//   for a re-read of the user from both sides before it is reported
//   (SetRechecker, api/mismatch_recheck.h): one that is gone by then was a
//   write in transit to one side (e.g. a SQL write the binlog follower had
//   not applied yet), counted as not compared (transient).
// - Durable replay: a mirrored write whose copy was dropped (overflow,
//   target unhealthy) or failed (connect/IO error, timeout, 5xx, 408, 409,
//   429) is appended to the ReplayLog for the replayer.
// - Read-your-writes: PendingTowards(user, backend) tells the proxy that a
//   write of the user may not be on that backend yet (a record in the replay
//   log towards it, or a copy in flight to it); the proxy then serves the
//   user from the other side (see MirrorSink).
// - Lossless rollback: with `durable_to_legacy`, every write mirrored to
//   legacy (canary cohort writes, full) is persisted BEFORE its answer goes to
//   the client (NeedsDurableBeforeAnswer/Persist): held while the mirror is in
//   flight, settled when it lands, released to the replayer when it fails.
//   So a write acknowledged by the proxy is on legacy or in the fsync'd log,
//   even if the proxy dies right after answering. While the replay log is
//   full such writes are refused up front (RefuseWrite: 503 + Retry-After)
//   instead of being acknowledged without a durable copy. With
//   `durable_to_modern`, writes served by legacy and mirrored to modern are
//   persisted before their answer the same way (unless modern answered 2xx
//   first); while the log is full those are answered anyway (legacy has
//   them) and counted as unprotected.
// - Fallback: modern outcomes (primary answers and mirrors to modern) feed
//   the route's detector; on a trip `on_trip(route, reason)` runs once (on
//   the request's loop; it must only post work) and the event is logged.
// - Live figures: every answer (primary and mirrored) goes to the traffic
//   window of the backend that gave it.
// Without a replay_log (nullptr) writes that fail are only counted.
// Threads: all callbacks are thread-safe (see ControlPlane, ReplayLog).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "api/mismatch_recheck.h"
#include "domain/control_plane.h"
#include "domain/durable_writes.h"
#include "domain/mirror_sink.h"
#include "domain/mirror_verdict.h"
#include "domain/pending_writes.h"
#include "domain/primary_observer.h"
#include "domain/replay_log.h"
#include "domain/write_tracker.h"
#include "ficus/metrics.h"

namespace ficus::proxy {

// ficus_proxy_*: the sink's metrics, in one place.
#define ALL_CONTROL_PLANE_SINK_METRICS(COUNTER, GAUGE, HISTOGRAM)                                 \
  COUNTER(replay_appended_total,                                                                  \
          "Mirrored writes persisted to the replay log (failed or dropped copies, and writes "    \
          "persisted before answering).")                                                         \
  COUNTER(replay_append_failures_total,                                                           \
          "Mirrored writes that could not be persisted (replay log full or failing): alert.")     \
  COUNTER(unprotected_writes_total,                                                               \
          "Writes answered to the client that are neither on the other backend nor in the "       \
          "replay log (persisting failed): rollback would lose them. Alert on any.")              \
  COUNTER(writes_refused_total,                                                                   \
          "Writes answered 503 up front because the replay log is full and could not keep their " \
          "copy for legacy.")
struct ControlPlaneSinkMetrics {
  FICUS_METRIC_FIELDS(ALL_CONTROL_PLANE_SINK_METRICS)
};

class ControlPlaneSink final : public MirrorSink,
                               public DurableWrites,
                               public PrimaryObserver,
                               public PendingWrites {
 public:
  using OnTrip = std::function<void(const std::string& route, const std::string& reason)>;
  ControlPlaneSink(ControlPlane& cp, ReplayLog* replay_log, MetricsRegistry& metrics,
                   bool durable_to_legacy, OnTrip on_trip, bool durable_to_modern = false);

  [[nodiscard]] bool WantsBodies() const override { return true; }
  void OnDropped(const MirrorExchange& ex, MirrorOutcome why) override;
  void OnCompleted(const MirrorExchange& ex, const MirrorResult& result) override;
  void OnPrimary(const PrimaryObservation& obs) override;
  void OnDispatched(const MirrorExchange& ex) override;
  [[nodiscard]] bool NeedsDurableBeforeAnswer(const MirrorExchange& ex) const override;
  void Persist(const MirrorExchange& ex, bool in_flight,
               std::function<void(uint64_t id)> done) override;
  [[nodiscard]] std::optional<std::string> RefuseWrite(std::string_view route) override;
  [[nodiscard]] bool PendingTowards(std::string_view user, const std::string& backend,
                                    bool legacy) const override;

  // The replayer delivered a write of `user`: an answer of that user whose
  // round trip spans this moment may have overtaken it (not compared).
  void OnReplayed(std::string_view user);

  // Differences go through `rechecker` (nullptr: reported at once). Set
  // before traffic flows; the rechecker must outlive the traffic.
  void SetRechecker(MismatchRechecker* rechecker) { rechecker_ = rechecker; }
  // A write of `user` in flight, completed within the last millisecond, or
  // pending in the replay log towards `legacy` or `modern` (backend names).
  [[nodiscard]] bool UserBusy(std::string_view user, const std::string& legacy,
                              const std::string& modern) const;

 private:
  void FeedFallback(const MirrorExchange& ex, const MirrorVerdict& v);
  void ApplyReplay(const MirrorExchange& ex, const MirrorVerdict& v, const char* why);
  void Append(const MirrorExchange& ex, const char* why);
  void RecordModern(const std::string& route, bool error);
  [[nodiscard]] bool ReplayPending(const MirrorExchange& ex) const;

  ControlPlane& cp_;
  ReplayLog* replay_log_;
  const bool durable_to_legacy_;
  const bool durable_to_modern_;
  OnTrip on_trip_;
  WriteTracker writes_;
  MismatchRechecker* rechecker_ = nullptr;
  ControlPlaneSinkMetrics m_;
};

}  // namespace ficus::proxy
