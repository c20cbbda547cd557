// Idempotency-Key rules (CONTRACT.md "Idempotency-Key"). Pure.
//
// Scope is (user, key). A record is written only together with a successful
// update (atomically, by the store) and holds the request fingerprint and the
// merged profile the first answer rendered; rendering is deterministic, so a
// replay renders the first response byte for byte.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "domain/profile.h"

namespace ficus::writer {

inline constexpr std::int64_t kIdempotencyRetentionUs = 24LL * 3600 * 1000000;

using Fingerprint = std::array<std::uint8_t, 32>;  // SHA-256 of the raw body

struct IdempotencyRecord {
  std::int64_t created_us = 0;  // server clock when stored
  Fingerprint fingerprint{};
  Uuid user{};
  Profile profile;  // the merged profile of the first, successful answer

  bool operator==(const IdempotencyRecord&) const = default;
};

enum class IdempotencyDecision {
  kProceed,   // no live record: process the request
  kReplay,    // same body: answer with the stored profile, apply nothing
  kMismatch,  // other body: 422
};

// True while a record still counts (kept at least 24 h; a store may drop it
// any time after).
bool IsLive(const IdempotencyRecord& record, std::int64_t now_us);

// `existing` null when the store has no record for (user, key).
IdempotencyDecision Decide(const IdempotencyRecord* existing, const Fingerprint& fingerprint,
                           std::int64_t now_us);

}  // namespace ficus::writer
