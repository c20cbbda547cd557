// Plain data shared by every layer of the migrator. No behaviour, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ficus::migrator {

// One attribute of a legacy profile as stored in MySQL: a live value or a
// tombstone (value == nullopt), with its own last-write timestamp.
struct KeyState {
  std::string key;
  std::optional<std::string> value;  // nullopt = tombstone
  std::int64_t updated_us = 0;

  bool operator==(const KeyState&) const = default;
};

// The full legacy state of one user: profiles row + every profile_attributes row.
struct LegacyProfile {
  std::string user_id;  // canonical lowercase UUID
  std::int64_t updated_us = 0;
  std::vector<KeyState> keys;  // sorted by key

  bool operator==(const LegacyProfile&) const = default;
};

// The merged profile the new store answers with (GET /api/v2/profile/get).
struct ModernProfile {
  std::string user_id;
  std::int64_t updated_us = 0;
  std::map<std::string, std::string> attributes;

  bool operator==(const ModernProfile&) const = default;
};

// One write, as sent to a store: every key shares one timestamp.
struct ProfileUpdate {
  std::string user_id;
  std::int64_t ts_us = 0;
  std::vector<std::pair<std::string, std::optional<std::string>>> attributes;  // nullopt = delete

  bool operator==(const ProfileUpdate&) const = default;
};

// A half-open range of user ids [lo, hi) in canonical lowercase form.
// An empty lo means "from the start", an empty hi means "to the end".
struct KeyRange {
  std::string lo;
  std::string hi;

  bool operator==(const KeyRange&) const = default;
  [[nodiscard]] bool Contains(const std::string& id) const {
    return (lo.empty() || id >= lo) && (hi.empty() || id < hi);
  }
};

}  // namespace ficus::migrator
