// Merge rules: per-key last-write-wins by timestamp, tombstones kept.
//
// Ties (equal timestamps) resolve like ScyllaDB cells so every store
// converges to the same state whatever order writes arrive in:
//   a tombstone beats a value; between two values the bytewise greater wins;
//   two tombstones are equal.
// MergeInto is commutative, associative and idempotent (a join on a
// semilattice), which is what lets a RocksDB merge operator, replays and
// mirrored writes all use it.
#pragma once

#include "domain/profile.h"

namespace ficus::writer {

// True when `a` replaces `b` under the rules above (false when equal).
bool CellBeats(const Cell& a, const Cell& b);

// Folds `other` into `base`: per key the winning cell; updated_us the max.
void MergeInto(Profile& base, const Profile& other);
// The same, moving the winning cells out of `other` (left valid, unspecified).
void MergeInto(Profile& base, Profile&& other);

// The update as a partial profile: each attribute a cell stamped ts_us.
Profile ToProfile(const ProfileUpdate& update);
// The same, moving the attribute strings out of `update`.
Profile ToProfile(ProfileUpdate&& update);

}  // namespace ficus::writer
