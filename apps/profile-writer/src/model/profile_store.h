// ProfileStore: where profiles live. The domain talks to this interface only;
// RocksDbProfileStore (embedded, default) and ScyllaProfileStore implement it.
//
// Contract every implementation keeps (the domain relies on each point):
//  * Apply(request, done) applies one validated update: merges it into the
//    user's current profile with the domain merge rules (domain/merge.h:
//    per-key LWW by ts, tombstones kept, tie rule), appends it to the user's
//    history, and, when request.idempotency is set, stores the idempotency
//    record for (user, key) holding the merged profile - all or nothing.
//    `done` is called exactly once, on ANY thread (the store's own thread, or
//    the caller's thread before Apply returns for an immediate failure); the
//    caller re-posts to its own executor. Success carries the merged profile
//    (tombstones included) right after this update, and means the update is
//    durable (RocksDB: WAL fsynced). Errors: kUnavailable when the store is
//    overloaded or closing (nothing applied, safe to retry); kInternal on
//    storage failure, with a short reason (nothing of this update visible).
//  * ApplyBatch(updates, done) applies many validated updates (a bulk
//    import) with exactly Apply's merge and history rules, in ONE durable
//    write where the store has one (RocksDB: one WriteBatch, one WAL fsync,
//    possibly shared with other requests' updates). No idempotency records.
//    `done` is called exactly once, on any thread, with one Status per
//    update (same order): ok = applied and durable; kInternal = this
//    update's user could not be read (nothing of that update applied).
//    The whole call fails (nothing applied) with kUnavailable (overloaded,
//    closing) or kInternal (the write failed). Several updates of one user
//    in the batch are applied in batch order (the LWW result does not
//    depend on it).
//  * Get(user): the current merged profile, tombstones included, or
//    kNotFound if the user never had an accepted update. Sees every update
//    whose `done` has been called with success. Thread-safe, synchronous,
//    must not wait behind queued writes.
//  * GetIdempotency(user, key): the stored record, or nullopt. Records may be
//    returned after their 24 h; the domain checks liveness (IsLive).
//    Thread-safe, synchronous.
//  * Ready(): open and accepting writes.
//  * Close(): stop accepting (later Apply fail kUnavailable), complete every
//    accepted Apply, make everything durable, release resources. Idempotent.
//    The destructor calls it.
// All methods may be called from any number of threads concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/idempotency.h"
#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer {

// Stored with the update when the request carried an Idempotency-Key. The
// store fills the record's profile with the merged result.
struct IdempotencyWrite {
  std::string key;
  Fingerprint fingerprint{};
  std::int64_t created_us = 0;
};

struct ApplyRequest {
  ProfileUpdate update;
  std::optional<IdempotencyWrite> idempotency;
};

using ApplyCallback = std::function<void(Result<Profile>)>;
using ApplyBatchCallback = std::function<void(Result<std::vector<Status>>)>;

class ProfileStore {
 public:
  virtual ~ProfileStore() = default;

  virtual void Apply(ApplyRequest request, ApplyCallback done) = 0;
  virtual void ApplyBatch(std::vector<ProfileUpdate> updates, ApplyBatchCallback done) = 0;
  virtual Result<Profile> Get(const Uuid& user) = 0;
  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(const Uuid& user,
                                                                  std::string_view key) = 0;
  virtual bool Ready() const = 0;
  virtual Status Close() = 0;
};

}  // namespace ficus::writer
