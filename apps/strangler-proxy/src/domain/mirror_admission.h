// Mirror admission: whether a mirrored copy may be sent now, or is dropped
// (and why). Decided after the primary request is on the wire.
//
//   - target down (active health check) or its breaker open -> kUnhealthy;
//   - the route's mirrors in flight at its max_inflight     -> kOverflow;
//   - else the copy is sent.
//
// MirrorBreaker: after a copy could not connect, copies to that target are
// dropped (as unhealthy) for a backoff that starts at 50 ms and doubles up
// to 1 s while connects keep failing; any other outcome closes it. A dead
// mirror target then costs no connect() per request. Time is passed in
// (`now_us`, a monotonic clock in µs), so the breaker is testable without
// sleeping.
//
// No I/O. MirrorBreaker is thread-safe (relaxed atomics: a race between two
// loops costs at most one extra or one missed copy, never a wrong answer).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "domain/mirror_sink.h"

namespace ficus::proxy {

class MirrorBreaker {
 public:
  static constexpr uint32_t kFirstBackoffMs = 50;
  static constexpr uint32_t kMaxBackoffMs = 1000;

  // True while copies to the target are dropped.
  [[nodiscard]] bool Open(int64_t now_us) const;
  // The outcome of a copy that was sent.
  void Note(MirrorOutcome outcome, int64_t now_us);
  [[nodiscard]] uint32_t backoff_ms() const { return backoff_ms_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> blocked_until_us_{0};
  std::atomic<uint32_t> backoff_ms_{0};
};

struct MirrorAdmissionFacts {
  bool target_up = true;      // the target's active health check passes
  bool breaker_open = false;  // MirrorBreaker::Open(now)
  uint32_t inflight = 0;      // the route's mirrors in flight now
  uint32_t max_inflight = 0;  // the route's mirror.max_inflight
};

// nullopt: send the copy; else the outcome it is dropped with.
std::optional<MirrorOutcome> AdmitMirror(const MirrorAdmissionFacts& facts);

}  // namespace ficus::proxy
