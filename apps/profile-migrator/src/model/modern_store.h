// ModernStore: the new profile store, reached through the running profile
// writer's public API (it owns the embedded RocksDB).
//
// One instance owns one keep-alive connection and is NOT thread-safe; use a
// ModernStoreFactory per worker. Transient failures (connection refused or
// reset, 503, 500) are retried with backoff inside, up to the configured
// deadline, then returned as Unavailable. Errors: NotFound (Get: no profile),
// InvalidArgument (the writer rejected the request: 4xx, message is its msg),
// Unavailable, Internal (unparseable answer).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

class ModernStore {
 public:
  virtual ~ModernStore() = default;
  virtual Result<ModernProfile> Get(const std::string& user_id) = 0;
  // Sends one update with X-Ficus-Timestamp = update.ts_us.
  virtual Status Apply(const ProfileUpdate& update) = 0;

  // The writer's bulk endpoints (CONTRACT.md "Bulk endpoints"), when the
  // store has a token and the writer has them. HasBulk() asks the writer
  // once: false without a token or for an older writer (its 404), so the
  // caller falls back to Apply/Get; an error when the token is refused
  // (InvalidArgument, naming the token file) or the writer is unreachable.
  virtual Result<bool> HasBulk() = 0;
  // All `updates` in one import request (one group commit in the writer),
  // stamped with their ts_us; with atomic_user a user with a rejected
  // update has none applied. One Status per update, in order:
  // InvalidArgument (rejected, the writer's msg), Internal (not applied,
  // storage). The whole call: Unavailable past the retry deadline,
  // InvalidArgument when the writer refused the request as a whole.
  virtual Result<std::vector<Status>> ApplyBatch(const std::vector<ProfileUpdate>& updates,
                                                 bool atomic_user) = 0;
  // Many users' profiles in one request, in order: the profile, NotFound,
  // or InvalidArgument (a bad id). Whole-call errors as ApplyBatch.
  virtual Result<std::vector<Result<ModernProfile>>> GetMany(
      const std::vector<std::string>& user_ids) = 0;
  [[nodiscard]] virtual std::string Describe() const = 0;
};

using ModernStoreFactory = std::function<Result<std::unique_ptr<ModernStore>>()>;

}  // namespace ficus::migrator
