// Bulk import rules (POST /internal/profile/import, CONTRACT.md "Bulk
// import"): which records of a request are applied. Pure functions.
//
// A record is validated on its own with the single update's rules; a bad
// record is reported and never stops the others. With atomic=user, a user
// is imported whole or not at all within the request: when any record that
// names a user fails, that user's other records are withheld (kConflict,
// "user_id: not applied: record <n> of this user was rejected", n 1-based).
#pragma once

#include <optional>
#include <vector>

#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer {

inline constexpr std::size_t kMaxImportRecords = 10000;
inline constexpr std::size_t kMaxReadIds = 2000;
inline constexpr std::size_t kMaxBulkBodyBytes = std::size_t{16} << 20;

struct ImportRecord {
  std::optional<Uuid> user;      // set once the record's user_id was valid
  Result<ProfileUpdate> update;  // the validated update, or why the record is rejected
};

// atomic=user: replaces the valid records of every user that has a rejected
// record by the kConflict error above.
void WithholdUsersWithRejections(std::vector<ImportRecord>& records);

}  // namespace ficus::writer
