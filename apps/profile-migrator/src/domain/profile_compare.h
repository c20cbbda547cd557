// Parity rules between a legacy profile and the new store's answer.
//
// What is compared is what a user would notice: the set of live attributes
// and their values, and then `updated_at` (legacy profiles.updated_us, the
// writer's updated_at: both are the newest stamp ever applied to the
// profile, and both APIs show it): the writer may be ahead (a repair of an
// in-place edit stamps it updated_at + 1 us; live writes land there first)
// but never behind (kUpdatedAt: legacy has a newer stamp the writer never
// got, with the same live attributes). Tombstones and per-key timestamps are
// not visible through the new store's API, so they are not compared.
// updated_at also tells which side is newer (repair) and whether a user
// changed during the scan.
// A legacy profile with no attribute rows at all never reaches the new store
// (there is nothing to write), so "absent in the new store" matches it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/profile.h"

namespace ficus::migrator {

// kUpdatedAt: same live attributes, legacy's updated_at newer than the writer's.
enum class DiffKind { kEqual, kMissingInModern, kMissingInLegacy, kAttributes, kUpdatedAt };
const char* DiffKindName(DiffKind kind);

struct ValueDiff {
  std::string key;
  std::optional<std::string> legacy, modern;  // nullopt = absent
};

struct ProfileDiff {
  DiffKind kind = DiffKind::kEqual;
  std::vector<ValueDiff> keys;  // every differing key, sorted
  [[nodiscard]] bool equal() const { return kind == DiffKind::kEqual; }
};

std::map<std::string, std::string> LiveAttributes(const LegacyProfile& profile);

// nullopt = the side has no profile for this user.
ProfileDiff CompareProfiles(const std::optional<LegacyProfile>& legacy,
                            const std::optional<ModernProfile>& modern);

}  // namespace ficus::migrator
