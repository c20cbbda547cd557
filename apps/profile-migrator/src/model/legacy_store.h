// LegacyStore: the legacy MySQL profile tables, as the migrator sees them.
//
// One instance owns one connection and is NOT thread-safe: each worker
// thread gets its own from a LegacyStoreFactory. Reads return profiles in
// user-id order with every attribute row, tombstones included. Errors:
// Unavailable (cannot connect / connection lost), Internal (query failed),
// NotFound (ReadProfile of an unknown user); messages name the server and
// the statement that failed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

class LegacyStore {
 public:
  virtual ~LegacyStore() = default;

  // Number of profiles whose user id lies in `range`.
  virtual Result<std::int64_t> CountProfiles(const KeyRange& range) = 0;
  // Up to `limit` profiles in `range` with user_id > `after` ("" = from the
  // start of the range), ascending, read from one consistent snapshot.
  virtual Result<std::vector<LegacyProfile>> ReadChunk(const KeyRange& range,
                                                       const std::string& after, int limit) = 0;
  // Up to `limit` user ids in `range` after `after`, ascending (ids only: cheap).
  virtual Result<std::vector<std::string>> ReadUserIds(const KeyRange& range,
                                                       const std::string& after, int limit) = 0;
  // The given users (ids sorted ascending); unknown ids are simply absent.
  virtual Result<std::vector<LegacyProfile>> ReadProfiles(const std::vector<std::string>& ids) = 0;
  virtual Result<LegacyProfile> ReadProfile(const std::string& user_id) = 0;
  // Users with profile_attributes rows but no profiles row (orphans, never
  // migrated), with their row count; at most `limit`, ascending.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> ReadOrphanAttributeUsers(
      int limit) = 0;
  // Applies updates to one user in one transaction, under the profile row
  // lock the monolith also takes, with the LWW rule of model/lww.h; each
  // update is appended to profile_history as the monolith would.
  virtual Status ApplyUpdates(const std::string& user_id,
                              const std::vector<ProfileUpdate>& updates) = 0;
  // "host:port/db", for checkpoints and messages.
  [[nodiscard]] virtual std::string Describe() const = 0;
};

using LegacyStoreFactory = std::function<Result<std::unique_ptr<LegacyStore>>()>;

}  // namespace ficus::migrator
