#include "domain/mirror_admission.h"

#include <algorithm>

namespace ficus::proxy {

bool MirrorBreaker::Open(int64_t now_us) const {
  const int64_t until = blocked_until_us_.load(std::memory_order_relaxed);
  return until != 0 && now_us < until;
}

void MirrorBreaker::Note(MirrorOutcome outcome, int64_t now_us) {
  if (outcome == MirrorOutcome::kConnectError) {
    const uint32_t prev = backoff_ms_.load(std::memory_order_relaxed);
    const uint32_t next = std::min(kMaxBackoffMs, prev == 0 ? kFirstBackoffMs : prev * 2);
    backoff_ms_.store(next, std::memory_order_relaxed);
    blocked_until_us_.store(now_us + int64_t{next} * 1000, std::memory_order_relaxed);
  } else if (backoff_ms_.load(std::memory_order_relaxed) != 0) {
    backoff_ms_.store(0, std::memory_order_relaxed);
    blocked_until_us_.store(0, std::memory_order_relaxed);
  }
}

std::optional<MirrorOutcome> AdmitMirror(const MirrorAdmissionFacts& facts) {
  if (!facts.target_up || facts.breaker_open) return MirrorOutcome::kUnhealthy;
  if (facts.inflight >= facts.max_inflight) return MirrorOutcome::kOverflow;
  return std::nullopt;
}

}  // namespace ficus::proxy
