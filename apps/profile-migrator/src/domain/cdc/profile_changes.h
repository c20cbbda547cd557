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
//     (e.g. a bare `UPDATE ... SET attr_value = ...` by a script) the event
//     time, but at least the row's old updated_us + 1 us, so the change
//     beats the value it replaced even when the row's stamp is ahead of the
//     binlog's clock. The event time has whole seconds only (the binlog
//     header's resolution), and is rounded down, so a write that reaches
//     MariaDB after this one (through the proxy, stamped later) still wins;
//   - delete of an attribute row (a key removed by SQL): a tombstone at
//     that same "event time, at least old updated_us + 1";
//   - delete of a profiles row (a whole profile removed): a deletion of the
//     user's every key at that same stamp (ProfileDeletion);
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

// The stamp of an update/delete that did not set one: event time (whole
// seconds) in us, at least `old_us + 1`.
std::int64_t ImpliedTimestamp(std::uint32_t event_time_s, std::int64_t old_us);

// Appends the meaning of one ROWS event of a profile table (role != kOther);
// returns the number of rows it had.
Result<std::size_t> ChangesFromRows(const RowsEventBody& rows, const TableMap& map, TableRole role,
                                    std::uint32_t event_time_s,
                                    std::vector<AttributeChange>& changes,
                                    std::vector<ProfileDeletion>& deletions);

}  // namespace ficus::migrator::cdc
