// RunLoad: an open-loop HTTP/1.1 load against one server.
//
// Requests are due at the times of an ArrivalSchedule (constant or Poisson
// at `rate` per second), whatever the server does. A due request goes out
// on any idle keep-alive connection of the pool; when every connection is
// busy it waits in a client-side backlog. Its latency is measured from its
// INTENDED send time (the schedule's), not from when it could be written,
// so time spent queued behind a slow answer counts (no coordinated
// omission: a server that stalls for 200 ms shows 200 ms of late requests,
// not one slow one). The service time (actual send -> answer, what wrk
// reports) and the send lag (intended -> actual send) are kept apart for
// diagnosis.
//
// Phases: `warmup` (sent, not recorded), `duration` (recorded: every
// request whose intended time falls in it), then up to `drain` to finish
// what is backlogged or in flight. Requests still unanswered after the
// drain, or backlogged beyond `max_backlog`, count as `unfinished`; a
// request not answered within `timeout` of being sent closes its connection
// and counts as `timeouts`. Failed requests are errors, not latencies.
// A connection the server closes (or that fails) is reopened.
//
// Timeline: with `timeline` > 0, measured requests are also counted per
// interval of their intended send time (count, worst latency, worst service
// time, worst send lag), to see WHEN a tail happened (a stall shows as a run
// of intervals whose worst latency falls linearly: everything due during it
// waited for its end).
//
// Threads: RunLoad blocks; it runs `threads` event loops (epoll, one per
// thread, each with connections/threads connections and rate/threads of the
// schedule, seeded apart) and merges their results. Each thread walks the
// shared pre-built requests from its own offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ficus/result.h"
#include "histogram.h"
#include "schedule.h"

namespace ficus::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";  // IPv4 literal
  std::uint16_t port = 0;
  double rate = 1000;  // requests per second, all threads together
  Arrival arrival = Arrival::kConstant;
  std::chrono::nanoseconds warmup{0};
  std::chrono::nanoseconds duration{std::chrono::seconds(10)};
  std::chrono::nanoseconds drain{std::chrono::seconds(5)};
  std::chrono::nanoseconds timeout{std::chrono::seconds(10)};
  // Wake-up granularity for due requests (see RoundUpToTick); 0: exact.
  std::chrono::nanoseconds tick{std::chrono::microseconds(50)};
  int connections = 64;
  int threads = 1;
  std::uint64_t seed = 1;
  std::size_t max_backlog = 1'000'000;                       // per thread
  std::chrono::nanoseconds timeline{0};                      // interval; 0: no timeline
  std::shared_ptr<const std::vector<std::string>> requests;  // complete HTTP/1.1 requests
};

struct TimelineBucket {
  std::uint64_t count = 0;         // answered requests intended in this interval
  std::uint64_t max_latency = 0;   // ns
  std::uint64_t max_service = 0;   // ns
  std::uint64_t max_send_lag = 0;  // ns
  void Merge(const TimelineBucket& o);
};

struct LoadResult {
  LogHistogram latency;                   // ns, intended send -> complete answer
  LogHistogram service;                   // ns, actual send -> complete answer
  LogHistogram send_lag;                  // ns, intended -> actual send
  std::uint64_t scheduled = 0;            // intended in the measured window
  std::uint64_t completed = 0;            // of those, answered (any status)
  std::uint64_t completed_in_window = 0;  // answers that arrived inside the window
  std::uint64_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0, status_other = 0;
  std::uint64_t connect_errors = 0;  // failed (re)connects (not tied to a request)
  std::uint64_t io_errors = 0;       // measured requests lost to reset/close/bad framing
  std::uint64_t timeouts = 0;
  std::uint64_t unfinished = 0;
  std::uint64_t max_backlog_seen = 0;
  std::uint64_t reconnects = 0;
  double duration_s = 0;
  std::string first_error;               // what the first failure said, if any
  std::vector<TimelineBucket> timeline;  // per LoadOptions::timeline interval, if set

  [[nodiscard]] std::uint64_t errors() const {
    return status_4xx + status_5xx + status_other + io_errors + timeouts + unfinished;
  }
  void Merge(const LoadResult& o);
};

// Fails (kInvalidArgument naming the option) on bad options, or
// (kUnavailable) when no connection can be opened at the start.
Result<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace ficus::bench
