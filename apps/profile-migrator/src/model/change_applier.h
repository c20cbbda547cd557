// ChangeApplier: where the follower's updates go (the profile writer).
//
// Apply sends every update (each with its stamp ts_us) and returns once
// each one is either acknowledged durably by the writer or refused by it
// with a 4xx (returned, with the writer's message: a legacy value the
// contract does not allow). Error Unavailable: the writer could not be
// reached for some update, or answered that it could not apply one now;
// nothing may be assumed applied, the caller retries the whole call
// (replays are harmless: LWW). Any other error (e.g. the writer refused the
// bulk token) is not transient: the caller stops.
// LiveKeys: for each user, the keys the writer holds live (empty when it
// has no profile), in order.
// Implementations may apply updates in parallel and in any order: the
// writer's per-key last-write-wins makes the result order-independent.
#pragma once

#include <string>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

struct RejectedUpdate {
  ProfileUpdate update;
  std::string message;
};

class ChangeApplier {
 public:
  virtual ~ChangeApplier() = default;
  virtual Result<std::vector<RejectedUpdate>> Apply(const std::vector<ProfileUpdate>& updates) = 0;
  virtual Result<std::vector<std::vector<std::string>>> LiveKeys(
      const std::vector<std::string>& user_ids) = 0;
  // "bulk" or "single" once known (after the first successful call), else "".
  [[nodiscard]] virtual std::string Path() const = 0;
};

}  // namespace ficus::migrator
