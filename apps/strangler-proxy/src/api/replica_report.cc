#include "api/replica_report.h"

namespace ficus::proxy {

ReplicaReport BuildReplicaReport(std::string admin, const Config& running,
                                 const ControlPlane& control, const ReplayLog& replay_log) {
  ReplicaReport rep;
  rep.admin = std::move(admin);
  for (const auto& r : running.routes) {
    ReplicaRouteStats x;
    if (auto live = control.Live(r.name)) {
      x.legacy_rps = live->legacy.rps.value_or(0);
      x.modern_rps = live->modern.rps.value_or(0);
      x.legacy_requests = live->legacy.requests;
      x.legacy_errors = live->legacy.errors;
      x.modern_requests = live->modern.requests;
      x.modern_errors = live->modern.errors;
      x.compared = live->mismatch.compared;
      x.mismatched = live->mismatch.mismatched;
      x.served = live->totals.served;
      x.legacy_answers = live->totals.legacy_answers;
      x.legacy_answer_errors = live->totals.legacy_errors;
      x.modern_answers = live->totals.modern_answers;
      x.modern_answer_errors = live->totals.modern_errors;
      x.skipped = live->compare_skipped;
      x.legacy_latency = std::move(live->legacy.latency);
      x.modern_latency = std::move(live->modern.latency);
    }
    x.backlog_to_legacy = replay_log.Queued(r.name, r.legacy_backend);
    x.backlog_to_modern = replay_log.Queued(r.name, r.modern_backend);
    rep.routes[r.name] = std::move(x);
  }
  return rep;
}

}  // namespace ficus::proxy
