// What a row change of the legacy profile tables means for the new store.
//
// Tables (names configurable, ProfileTables): profile_attributes(user_id,
// attr_key, attr_value NULL = tombstone, updated_us) and profiles(user_id,
// updated_us, ...). Columns are found by name (TABLE_MAP column names, so
// the server must run with binlog_row_metadata=FULL); other columns and
// every other table are ignored.
//
// Timestamp of a change (the X-Ficus-Timestamp the writer gets; LWW per key):
//   - insert of an attribute row: its updated_us;
//   - update: the new updated_us if the statement changed it; otherwise
//     (e.g. a bare `UPDATE ... SET attr_value = ...` by a script) the row's
//     old updated_us + 1 us (KeyImpliedTimestamp). That is the stamp legacy
//     itself goes on comparing later writes with (its column did not move),
//     so both stores order a later API write the same way: an API write
//     stamped by the proxy a moment before the SQL but committed after it
//     wins in legacy, and wins in the writer too. (The binlog event time
//     used before lost that race: found by the cdc `shadow` test, key k1
//     api419 in legacy vs v382 in the writer.) Successive bare updates of a
//     key keep binlog order through the stamp sequencer;
//   - an update whose new updated_us is LOWER than the old one (a writer
//     overwrote a newer value without comparing stamps: e.g. the monolith's
//     read-decide-write racing an SQL upsert of the same key, which does not
//     take the profile's row lock) is treated like a bare update: old + 1.
//     The value is legacy's now, so it must win in the writer too; taken
//     as stamped it lost there to the value it overwrote (UpdateTimestamp);
//   - delete of an attribute row (a key removed by SQL): a tombstone at old
//     updated_us + 1 (legacy has no row left to compare a later write with;
//     any later write stamped after the deleted value wins in both);
//   - an implied stamp of a row whose updated_us is <= 0: the event time;
//   - delete of a profiles row (a whole profile removed): a deletion of the
//     user's every key at the event time, at least the row's updated_us + 1
//     (ImpliedTimestamp; per-key stamps may be ahead of profiles.updated_us);
//   - a stamp <= 0 in a row is replaced by the event time (the API cannot
//     carry it);
//   - an update that changes user_id or attr_key is a deletion of the old
//     key plus a write of the new one.
// Replaying a change gives the same stamp, so duplicates are harmless.
//
// Errors (InvalidArgument, naming table and column): a profile table whose
// map lacks column names or a needed column, a NULL or non-integer stamp,
// a NULL user_id or key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/cdc/binlog_event.h"
#include "ficus/result.h"

namespace ficus::migrator::cdc {

struct ProfileTables {
  std::string database = "ficus";
  std::string attributes = "profile_attributes";
  std::string profiles = "profiles";
};

enum class TableRole { kOther, kAttributes, kProfiles };

TableRole RoleOf(const TableMap& map, const ProfileTables& tables);

struct AttributeChange {
  std::string user_id;  // lowercased
  std::string key;
  std::optional<std::string> value;  // nullopt = delete
  std::int64_t ts_us = 0;
  bool implied = false;  // ts_us from ImpliedTimestamp (the row did not set a stamp)

  bool operator==(const AttributeChange&) const = default;
};

struct ProfileDeletion {
  std::string user_id;
  std::int64_t ts_us = 0;

  bool operator==(const ProfileDeletion&) const = default;
};

// The stamp of a whole-profile deletion: event time (whole seconds) in us,
// at least `old_us + 1`.
std::int64_t ImpliedTimestamp(std::uint32_t event_time_s, std::int64_t old_us);

// The stamp of an attribute update/delete that did not set one: `old_us + 1`
// (what legacy keeps comparing with), or the event time when old_us <= 0.
std::int64_t KeyImpliedTimestamp(std::uint32_t event_time_s, std::int64_t old_us);

// The stamp of an attribute row update from its old and new updated_us
// (after_us already made positive): the new one when it moved forward, else
// implied (KeyImpliedTimestamp of the old one).
struct UpdateStamp {
  std::int64_t ts_us = 0;
  bool implied = false;
};
UpdateStamp UpdateTimestamp(std::uint32_t event_time_s, std::int64_t before_us,
                            std::int64_t after_us);

// Appends the meaning of one ROWS event of a profile table (role != kOther);
// returns the number of rows it had.
Result<std::size_t> ChangesFromRows(const RowsEventBody& rows, const TableMap& map, TableRole role,
                                    std::uint32_t event_time_s,
                                    std::vector<AttributeChange>& changes,
                                    std::vector<ProfileDeletion>& deletions);

}  // namespace ficus::migrator::cdc
