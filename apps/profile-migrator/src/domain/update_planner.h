// Turns a user's legacy state into the writes that reproduce it in the new store.
//
// Keys are grouped by their legacy per-key timestamp: one update per distinct
// timestamp (ascending), carrying that timestamp as X-Ficus-Timestamp, with
// tombstones as null values. Because the new store resolves every key
// last-write-wins by timestamp, applying these updates (in any order, any
// number of times) yields the legacy state for every key that no newer write
// has touched, and leaves newer keys alone. A group is split when it exceeds
// the contract's 64 entries or the body budget (64 KiB minus headroom).
//
// Errors (InvalidArgument, naming user, key and finding kind): the profile
// has a blocking finding (legacy_rules.h: non-canonical id, a key, value or
// stamp the contract cannot carry). Every group is checked before any is
// planned, so a user is migrated whole or not at all.
#pragma once

#include <cstddef>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

inline constexpr std::size_t kMaxKeysPerUpdate = 64;
inline constexpr std::size_t kMaxBodyBytes = std::size_t{60} * 1024;

// Bytes `s` takes as a JSON string literal, quotes included (worst case for
// control characters).
std::size_t JsonStringSize(const std::string& s);

Result<std::vector<ProfileUpdate>> PlanUpdates(const LegacyProfile& profile,
                                               std::size_t max_keys = kMaxKeysPerUpdate,
                                               std::size_t max_body = kMaxBodyBytes);

// The legacy state for a repair in the other direction: the keys whose live
// value differs between `legacy` and `modern` (set or deleted), all stamped
// `ts_us`, split like PlanUpdates. Empty when nothing differs.
std::vector<ProfileUpdate> PlanOverwrite(const std::string& user_id,
                                         const std::vector<KeyState>& current,
                                         const std::map<std::string, std::string>& wanted,
                                         std::int64_t ts_us,
                                         std::size_t max_keys = kMaxKeysPerUpdate,
                                         std::size_t max_body = kMaxBodyBytes);

}  // namespace ficus::migrator
