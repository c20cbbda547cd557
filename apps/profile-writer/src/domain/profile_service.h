// ProfileService: the writer's use cases (update, get), on top of the
// ProfileStore interface. Applies the idempotency rules (idempotency.h)
// around the store, stamps the update, and turns store errors into the
// contract's errors. Knows no store technology and does no I/O itself.
//
// Errors (code -> the api maps it to a status; message is the contract msg):
//   kInvalidArgument    Import: a record failed validation (per record)
//   kConflict           Idempotency-Key in progress (409)
//   kPreconditionFailed Idempotency-Key reused with another body (422)
//   kUnavailable        overloaded (503)
//   kNotFound           Get: no profile (404)
//   kInternal           storage failure, "storage: <reason>" (500)
// Thread-safe; `done` runs on whatever thread the store completes on.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/bulk_import.h"
#include "domain/idempotency.h"
#include "domain/profile.h"
#include "ficus/clock.h"
#include "ficus/result.h"
#include "model/profile_store.h"
#include "service/inflight_keys.h"

namespace ficus::writer {

struct UpdateCommand {
  ProfileUpdate update;                        // ts_us 0: stamp with the clock
  std::optional<std::string> idempotency_key;  // validated
  std::string_view raw_body;                   // fingerprinted when a key is present
};

using UpdateDone = std::function<void(Result<Profile>)>;
// One Status per import record (same order), or why nothing was applied.
using ImportDone = std::function<void(Result<std::vector<Status>>)>;

class ProfileService {
 public:
  ProfileService(ProfileStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Calls `done` exactly once, possibly before returning.
  void Update(UpdateCommand command, UpdateDone done);
  // Bulk import (bulk_import.h): applies the valid records in one store
  // batch (one durable write); rejected records keep their error. With
  // `atomic_user`, users with a rejected record are withheld whole. Whole
  // request errors: kUnavailable (503), kInternal (500); nothing applied.
  // Calls `done` exactly once, possibly before returning.
  void Import(std::vector<ImportRecord> records, bool atomic_user, ImportDone done);
  Result<Profile> Get(const Uuid& user);
  bool Ready() const { return store_.Ready(); }

 private:
  ProfileStore& store_;
  const Clock& clock_;
  InFlightKeys in_flight_;
};

}  // namespace ficus::writer
