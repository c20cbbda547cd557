// Turns the attribute changes of a batch of transactions into writer updates.
//
// Per (user, key) only the winning change is kept: the greatest stamp, and
// among equal stamps the later one in binlog order (what MariaDB holds).
// The winners are grouped per (user, stamp) into one update each (stamp =
// X-Ficus-Timestamp, deleted keys as null), split at the contract's 64 keys
// or the body budget (update_planner.h). Output order: by user, then stamp.
// Dropping superseded changes is safe because the writer resolves every
// key last-write-wins: the dropped change would have lost anyway.
#pragma once

#include <vector>

#include "domain/cdc/profile_changes.h"
#include "model/profile.h"

namespace ficus::migrator::cdc {

std::vector<ProfileUpdate> PlanChanges(const std::vector<AttributeChange>& changes);

// Tombstones for every key in `live_keys` at `deletion.ts_us` (a whole
// profile deleted in MariaDB), split like PlanChanges. Empty when no key.
std::vector<ProfileUpdate> PlanDeletion(const ProfileDeletion& deletion,
                                        const std::vector<std::string>& live_keys);

}  // namespace ficus::migrator::cdc
