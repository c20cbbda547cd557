// MismatchRechecker: holds a difference between the two answers of one
// exchange and reports it only if it survives a re-read of the user from
// both sides (the decision rules are domain/recheck.h).
//
// Why: a write can reach one store before the other without either being
// wrong — a SQL write that bypassed the proxy and that the binlog follower
// applies a moment later, a copy waiting in the replay log. Both stores
// agree a moment later; reporting such a difference is a false mismatch.
//
// Contract:
// - Submit(job): queues the mismatch for a re-read `recheck_ms` later (the
//   route's compare policy at that time). False when the queue holds
//   `max_pending` mismatches already, the route has no re-check (see
//   RecheckRoute) or the rechecker is stopped: the caller then reports at
//   once (nothing is ever dropped silently).
// - One worker thread re-reads the user from both sides with the read
//   route's request (PlanRecheck), marked `X-Ficus-Recheck: 1`, carrying
//   the original request's end-to-end headers (cookies, authorization);
//   compares the answers under the read route's rules; then per
//   RecheckVerdictFor: Report() the original record, RecordTransient(), or
//   RecordSkipped() (the user still busy), or reads again later.
// - Stop() (idempotent; the destructor calls it) joins the worker; held
//   mismatches are dropped with the process's other in-memory counters.
// Threads: Submit() from any thread; deps are called on the worker thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "domain/config.h"
#include "domain/control_plane.h"
#include "domain/mismatch_ring.h"
#include "ficus/clock.h"
#include "ficus/http/client.h"
#include "ficus/metrics.h"

namespace ficus::proxy {

// ficus_proxy_recheck_*: the re-checker's metrics, in one place.
#define ALL_RECHECK_METRICS(COUNTER, GAUGE, HISTOGRAM)                                    \
  COUNTER(submitted_total,                                                                \
          "Differences held for a re-read of the user from both sides before reporting.") \
  COUNTER(overflow_total,                                                                 \
          "Differences reported without a re-check because the re-check queue was full.") \
  COUNTER(reads_total, "Re-reads of a user from both sides (pairs of GETs).")             \
  GAUGE(held, "Differences held now, waiting for their re-read.")
struct RecheckMetrics {
  FICUS_METRIC_FIELDS(ALL_RECHECK_METRICS)
};

class MismatchRechecker {
 public:
  struct Deps {
    std::function<std::shared_ptr<const Config>()> config;  // the running config
    std::function<std::optional<http::ClientTarget>(const std::string& backend)> resolve;
    // A write of the user in flight, just raced, or pending in the replay log
    // towards either backend: its answers cannot be compared yet.
    std::function<bool(std::string_view user, const std::string& legacy, const std::string& modern)>
        busy;
    const Clock* clock = &SystemClock::Instance();  // not null; its monotonic time paces re-checks
  };
  struct Job {
    MismatchRecord record;
    std::vector<std::pair<std::string, std::string>> headers;  // of the original request
  };

  MismatchRechecker(ControlPlane& cp, Deps deps, MetricsRegistry& metrics,
                    size_t max_pending = 1024);
  ~MismatchRechecker();
  MismatchRechecker(const MismatchRechecker&) = delete;
  MismatchRechecker& operator=(const MismatchRechecker&) = delete;

  bool Submit(Job&& job);  // moves from `job` only when it returns true
  void Stop();
  [[nodiscard]] size_t pending() const;

 private:
  struct Held {
    Job job;
    unsigned tries_left = 0;
  };
  void Run();
  void Process(Held held);
  int64_t NowMs() const;

  ControlPlane& cp_;
  Deps deps_;
  const size_t max_pending_;
  RecheckMetrics m_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<int64_t, Held> due_;  // by due time (ms)
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace ficus::proxy
