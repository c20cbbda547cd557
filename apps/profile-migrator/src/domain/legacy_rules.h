// What legacy data the new store can take, and what looks wrong in it: the
// API contract's limits (packages/api-contract/CONTRACT.md, checks 12, 16,
// 18 and the X-Ficus-Timestamp range) applied to a legacy profile before
// anything is sent, and the pre-flight findings of `profile-migrator check`.
// Pure functions.
//
// Finding kinds (JSON `kind`):
//   non_canonical_id  user_id is not a lowercase canonical UUID: the monolith
//                     lower-cases ids and matches exactly, so nobody can see
//                     this row through the legacy API; never migrated, never
//                     repaired (blocking)
//   bad_key           a key the contract does not accept (blocking)
//   value_too_long    a value over 1024 bytes (blocking)
//   value_not_utf8    a value that is not valid UTF-8 (blocking)
//   bad_timestamp     a stamp <= 0 or over 16 digits (blocking), or one
//                     before 2000-01-01 (seconds or milliseconds stored as
//                     microseconds?) or more than a day in the future (it
//                     would win every later write) - not blocking
//   orphan_attributes attribute rows without a profiles row (found by a
//                     query, not here; never migrated)
// A blocking finding makes the user fail as a whole: none of its updates is
// sent (PlanUpdates).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

struct Finding {
  std::string user_id;
  std::string kind;
  std::string key;  // empty for findings about the whole profile
  std::string detail;
  bool blocking = true;
};

bool IsCanonicalLowerUuid(std::string_view id);
bool IsValidUtf8(std::string_view bytes);
bool IsContractKey(std::string_view key);

// Every finding of one profile, in key order. `now_us` judges "future".
std::vector<Finding> CheckProfile(const LegacyProfile& profile, std::int64_t now_us);

// The first blocking finding as InvalidArgument ("user <id>: <kind>: ..."),
// or ok: the profile can be migrated whole.
Status CheckMigratable(const LegacyProfile& profile);

}  // namespace ficus::migrator
