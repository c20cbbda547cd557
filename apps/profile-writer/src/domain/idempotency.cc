#include "domain/idempotency.h"

namespace ficus::writer {

bool IsLive(const IdempotencyRecord& record, std::int64_t now_us) {
  return now_us - record.created_us < kIdempotencyRetentionUs;
}

IdempotencyDecision Decide(const IdempotencyRecord* existing, const Fingerprint& fingerprint,
                           std::int64_t now_us) {
  if (existing == nullptr || !IsLive(*existing, now_us)) return IdempotencyDecision::kProceed;
  return existing->fingerprint == fingerprint ? IdempotencyDecision::kReplay
                                              : IdempotencyDecision::kMismatch;
}

}  // namespace ficus::writer
