// Profile entities of the writer's domain: a user id, per-key cells with
// their write timestamp (a tombstone is a cell without value), and updates.
//
// Values only: no I/O, no locking. Keys of `cells` and `attributes` are
// ordered bytewise (std::string compares as unsigned char), which is the
// order the API renders.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ficus::writer {

// 16 raw bytes of a UUID, in the order of its canonical text form.
using Uuid = std::array<std::uint8_t, 16>;

// One attribute's state: `value` empty means deleted (a tombstone), kept so
// that an older write arriving late cannot bring the key back.
struct Cell {
  std::int64_t ts_us = 0;
  std::optional<std::string> value;

  bool operator==(const Cell&) const = default;
};

// A user's merged profile, tombstones included. `updated_us` is the newest
// timestamp ever applied (0 never happens for a stored profile).
struct Profile {
  std::int64_t updated_us = 0;
  std::map<std::string, Cell, std::less<>> cells;

  bool operator==(const Profile&) const = default;
};

// One accepted update: every attribute is stamped with `ts_us`; a nullopt
// value deletes the key. Already validated (see validation.h).
struct ProfileUpdate {
  Uuid user{};
  std::int64_t ts_us = 0;
  std::map<std::string, std::optional<std::string>, std::less<>> attributes;
};

// The visible attributes (tombstones dropped), sorted bytewise.
std::map<std::string, std::string, std::less<>> VisibleAttributes(const Profile& profile);

}  // namespace ficus::writer
