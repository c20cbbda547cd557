#include "domain/cdc/profile_changes.h"

#include <algorithm>

#include "domain/cdc/row_image.h"

namespace ficus::migrator::cdc {

namespace {

struct Columns {
  std::size_t user = 0, key = 0, value = 0, stamp = 0;
};

Result<std::size_t> Find(const TableMap& map, const char* name) {
  for (std::size_t i = 0; i < map.column_names.size(); ++i) {
    if (map.column_names[i] == name) return i;
  }
  return MakeError(
      ErrorCode::kInvalidArgument,
      map.database + "." + map.table + ": the binlog's table map has no column " + name);
}

tl::unexpected<Error> BadRow(const TableMap& map, const char* column, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   map.database + "." + map.table + "." + column + ": " + what);
}

Result<std::string> Text(const TableMap& map, const RowImage& row, std::size_t col,
                         const char* name) {
  const auto& v = row[col];
  if (!v) return BadRow(map, name, "NULL in a row change");
  if (const auto* s = std::get_if<std::string>(&*v)) return *s;
  return BadRow(map, name, "not a string column");
}

Result<std::int64_t> Stamp(const TableMap& map, const RowImage& row, std::size_t col) {
  const auto& v = row[col];
  if (!v) return BadRow(map, "updated_us", "NULL in a row change");
  if (const auto* i = std::get_if<std::int64_t>(&*v)) return *i;
  return BadRow(map, "updated_us", "not an integer column (microseconds expected)");
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<std::string> Value(const RowImage& row, std::size_t col) {
  const auto& v = row[col];
  if (!v) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&*v)) return *s;
  return std::nullopt;
}

}  // namespace

TableRole RoleOf(const TableMap& map, const ProfileTables& tables) {
  if (map.database != tables.database) return TableRole::kOther;
  if (map.table == tables.attributes) return TableRole::kAttributes;
  if (map.table == tables.profiles) return TableRole::kProfiles;
  return TableRole::kOther;
}

std::int64_t ImpliedTimestamp(std::uint32_t event_time_s, std::int64_t old_us) {
  const std::int64_t event_us = std::int64_t{event_time_s} * 1'000'000;
  return std::max(event_us, old_us + 1);
}

UpdateStamp UpdateTimestamp(std::uint32_t event_time_s, std::int64_t before_us,
                            std::int64_t after_us) {
  if (after_us <= before_us) {
    return {KeyImpliedTimestamp(event_time_s, before_us), true};
  }
  return {after_us, false};
}

std::int64_t KeyImpliedTimestamp(std::uint32_t event_time_s, std::int64_t old_us) {
  if (old_us > 0) return old_us + 1;
  return std::int64_t{event_time_s} * 1'000'000;
}

Result<std::size_t> ChangesFromRows(const RowsEventBody& rows, const TableMap& map, TableRole role,
                                    std::uint32_t event_time_s,
                                    std::vector<AttributeChange>& changes,
                                    std::vector<ProfileDeletion>& deletions) {
  if (map.column_names.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     map.database + "." + map.table +
                         ": the binlog's table map has no column names; run MariaDB with "
                         "binlog_row_metadata=FULL");
  }
  auto decoded = DecodeRows(rows, map);
  if (!decoded) return tl::unexpected(decoded.error());
  const std::int64_t event_us = std::int64_t{event_time_s} * 1'000'000;
  auto positive = [&](std::int64_t ts) { return ts > 0 ? ts : event_us; };
  if (role == TableRole::kProfiles) {
    auto user = Find(map, "user_id");
    if (!user) return tl::unexpected(user.error());
    auto stamp = Find(map, "updated_us");
    if (!stamp) return tl::unexpected(stamp.error());
    if (rows.kind != RowsKind::kDelete) return decoded->size();  // no attribute in a profiles row
    for (const auto& rc : *decoded) {
      auto id = Text(map, *rc.before, *user, "user_id");
      if (!id) return tl::unexpected(id.error());
      auto old = Stamp(map, *rc.before, *stamp);
      if (!old) return tl::unexpected(old.error());
      deletions.push_back({Lower(*id), ImpliedTimestamp(event_time_s, *old)});
    }
    return decoded->size();
  }
  Columns c;
  for (auto [slot, name] : {std::pair{&c.user, "user_id"}, std::pair{&c.key, "attr_key"},
                            std::pair{&c.value, "attr_value"}, std::pair{&c.stamp, "updated_us"}}) {
    auto i = Find(map, name);
    if (!i) return tl::unexpected(i.error());
    *slot = *i;
  }
  for (const auto& rc : *decoded) {
    std::string before_user, before_key, after_user, after_key;
    std::int64_t before_ts = 0, after_ts = 0;
    if (rc.before) {
      auto u = Text(map, *rc.before, c.user, "user_id");
      if (!u) return tl::unexpected(u.error());
      auto k = Text(map, *rc.before, c.key, "attr_key");
      if (!k) return tl::unexpected(k.error());
      auto t = Stamp(map, *rc.before, c.stamp);
      if (!t) return tl::unexpected(t.error());
      before_user = Lower(*u), before_key = *k, before_ts = *t;
    }
    if (rc.after) {
      auto u = Text(map, *rc.after, c.user, "user_id");
      if (!u) return tl::unexpected(u.error());
      auto k = Text(map, *rc.after, c.key, "attr_key");
      if (!k) return tl::unexpected(k.error());
      auto t = Stamp(map, *rc.after, c.stamp);
      if (!t) return tl::unexpected(t.error());
      after_user = Lower(*u), after_key = *k, after_ts = *t;
    }
    switch (rows.kind) {
      case RowsKind::kWrite:
        changes.push_back({after_user, after_key, Value(*rc.after, c.value), positive(after_ts)});
        break;
      case RowsKind::kDelete:
        changes.push_back({before_user, before_key, std::nullopt,
                           KeyImpliedTimestamp(event_time_s, before_ts), true});
        break;
      case RowsKind::kUpdate: {
        const auto [ts, implied] = UpdateTimestamp(event_time_s, before_ts, positive(after_ts));
        if (before_user != after_user || before_key != after_key) {
          changes.push_back({before_user, before_key, std::nullopt,
                             KeyImpliedTimestamp(event_time_s, before_ts), true});
        }
        changes.push_back({after_user, after_key, Value(*rc.after, c.value), ts, implied});
        break;
      }
    }
  }
  return decoded->size();
}

}  // namespace ficus::migrator::cdc
