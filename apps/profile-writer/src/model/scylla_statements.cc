#include "model/scylla_statements.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"

namespace ficus::writer {
namespace {

using cql::Value;

cql::Uuid ToCql(const Uuid& u) {
  cql::Uuid out;
  std::copy(u.begin(), u.end(), out.bytes.begin());
  return out;
}

Value UserValue(const Uuid& user) {
  return Value::Of(cql::EncodeUuid(ToCql(user)));
}

tl::unexpected<Error> Corrupt(std::string what) {
  return MakeError(ErrorCode::kInternal, "scylla: unexpected row: " + std::move(what));
}

// Index of a column the statement selects; its absence is a schema mismatch.
Result<std::size_t> Column(const cql::RowsResult& rows, std::string_view name) {
  int i = rows.ColumnIndex(name);
  if (i < 0) return Corrupt(fmt::format("no column '{}' in the result", name));
  return static_cast<std::size_t>(i);
}

Result<std::int64_t> BigintCell(const cql::Row& row, std::size_t i, std::string_view name) {
  if (i >= row.size() || !row[i]) return Corrupt(fmt::format("column '{}' is null", name));
  auto v = cql::DecodeBigint(*row[i]);
  if (!v) return Corrupt(fmt::format("column '{}': {}", name, v.error().message));
  return *v;
}

Result<std::map<std::string, std::string>> MapCell(const cql::Row& row, std::size_t i,
                                                   std::string_view name) {
  if (i >= row.size() || !row[i]) return std::map<std::string, std::string>{};  // empty = null
  auto m = cql::DecodeTextMap(*row[i]);
  if (!m) return Corrupt(fmt::format("column '{}': {}", name, m.error().message));
  return std::move(*m);
}

// Takes an rvalue: the callers hand over the decoded map and its values are moved.
Profile ProfileOf(std::int64_t updated_us, std::map<std::string, std::string>&& attributes) {
  Profile p;
  p.updated_us = updated_us;
  for (auto& [k, v] : attributes) p.cells.emplace(k, Cell{0, std::move(v)});
  return p;
}

}  // namespace

std::array<std::string, kScyllaStatementCount> ScyllaStatementTexts(std::string_view ks) {
  return {
      fmt::format("INSERT INTO {}.profiles (user_id, last_updated_ts, update_id, attributes, "
                  "deleted) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?",
                  ks),
      fmt::format("UPDATE {}.profiles_current USING TIMESTAMP ? SET attributes = attributes + ?, "
                  "updated_us = ? WHERE user_id = ?",
                  ks),
      fmt::format("UPDATE {}.profiles_current USING TIMESTAMP ? SET attributes = attributes - ?, "
                  "updated_us = ? WHERE user_id = ?",
                  ks),
      fmt::format("SELECT attributes, updated_us FROM {}.profiles_current WHERE user_id = ?", ks),
      fmt::format("INSERT INTO {}.idempotency_keys (user_id, idem_key, created_us, fingerprint, "
                  "updated_us, attributes) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?",
                  ks),
      fmt::format("SELECT created_us, fingerprint, updated_us, attributes FROM {}.idempotency_keys "
                  "WHERE user_id = ? AND idem_key = ?",
                  ks),
      fmt::format("SELECT last_updated_ts, update_id, attributes, deleted FROM {}.profiles WHERE "
                  "user_id = ? LIMIT ?",
                  ks),
  };
}

cql::Uuid HistoryUpdateId(const ProfileUpdate& update) {
  // Content hash over user and attributes (the stamp is in the time bits).
  // Key and value are length-prefixed so no two updates share a byte string.
  cql::Writer w(cql::Bytes(update.user.begin(), update.user.end()));
  for (const auto& [key, value] : update.attributes) {
    w.String(key);
    if (value) {
      w.Byte(1);
      w.LongString(*value);
    } else {
      w.Byte(0);
    }
  }
  std::uint64_t h = static_cast<std::uint64_t>(cql::Murmur3Hash(w.bytes()));
  auto clock_seq = static_cast<std::uint16_t>(h >> 50);  // 14 bits
  std::uint64_t node = h & 0xFFFFFFFFFFFFull;            // 48 bits
  return cql::MakeTimeUuid(update.ts_us, clock_seq, node);
}

std::vector<BoundStatement> UpdateStatements(const ProfileUpdate& update) {
  std::map<std::string, std::string> set;
  std::set<std::string> deleted;
  for (const auto& [key, value] : update.attributes) {
    if (value) {
      set.emplace(key, *value);
    } else {
      deleted.insert(key);
    }
  }
  const Value user = UserValue(update.user);
  const Value ts = Value::Of(cql::EncodeBigint(update.ts_us));
  // Floor division: the millisecond that contains the stamp.
  std::int64_t ms = update.ts_us >= 0 ? update.ts_us / 1000 : (update.ts_us - 999) / 1000;
  std::vector<BoundStatement> out;
  out.push_back({ScyllaStatement::kInsertHistory,
                 {user, Value::Of(cql::EncodeTimestamp(ms)),
                  Value::Of(cql::EncodeUuid(HistoryUpdateId(update))),
                  set.empty() ? Value::Unset() : Value::Of(cql::EncodeTextMap(set)),
                  deleted.empty() ? Value::Unset() : Value::Of(cql::EncodeTextSet(deleted)), ts}});
  if (!set.empty()) {
    out.push_back(
        {ScyllaStatement::kAddAttributes, {ts, Value::Of(cql::EncodeTextMap(set)), ts, user}});
  }
  if (!deleted.empty()) {
    out.push_back({ScyllaStatement::kRemoveAttributes,
                   {ts, Value::Of(cql::EncodeTextSet(deleted)), ts, user}});
  }
  return out;
}

BoundStatement SelectCurrent(const Uuid& user) {
  return {ScyllaStatement::kSelectCurrent, {UserValue(user)}};
}

BoundStatement InsertIdempotency(const Uuid& user, const IdempotencyWrite& write,
                                 const Profile& merged) {
  std::map<std::string, std::string> visible;
  for (const auto& [k, v] : VisibleAttributes(merged)) visible.emplace(k, v);
  auto ttl_s = static_cast<std::int32_t>(kIdempotencyRetentionUs / 1000000);
  return {ScyllaStatement::kInsertIdempotency,
          {UserValue(user), Value::Of(cql::EncodeText(write.key)),
           Value::Of(cql::EncodeBigint(write.created_us)),
           Value::Of(cql::Bytes(write.fingerprint.begin(), write.fingerprint.end())),
           Value::Of(cql::EncodeBigint(merged.updated_us)), Value::Of(cql::EncodeTextMap(visible)),
           Value::Of(cql::EncodeInt(ttl_s))}};
}

BoundStatement SelectIdempotency(const Uuid& user, std::string_view key) {
  return {ScyllaStatement::kSelectIdempotency, {UserValue(user), Value::Of(cql::EncodeText(key))}};
}

BoundStatement SelectHistory(const Uuid& user, std::int32_t limit) {
  return {ScyllaStatement::kSelectHistory, {UserValue(user), Value::Of(cql::EncodeInt(limit))}};
}

Result<Profile> DecodeCurrent(const cql::RowsResult& rows) {
  if (rows.rows.empty()) return MakeError(ErrorCode::kNotFound, "no profile");
  auto attrs_i = Column(rows, "attributes");
  if (!attrs_i) return tl::unexpected(attrs_i.error());
  auto updated_i = Column(rows, "updated_us");
  if (!updated_i) return tl::unexpected(updated_i.error());
  const cql::Row& row = rows.rows.front();
  // A row without updated_us has no live write of ours (e.g. expired or
  // written by something else): treat it as absent.
  if (*updated_i >= row.size() || !row[*updated_i]) {
    return MakeError(ErrorCode::kNotFound, "no profile");
  }
  auto updated = BigintCell(row, *updated_i, "updated_us");
  if (!updated) return tl::unexpected(updated.error());
  auto attrs = MapCell(row, *attrs_i, "attributes");
  if (!attrs) return tl::unexpected(attrs.error());
  return ProfileOf(*updated, std::move(*attrs));
}

Result<std::optional<IdempotencyRecord>> DecodeIdempotency(const cql::RowsResult& rows,
                                                           const Uuid& user) {
  if (rows.rows.empty()) return std::optional<IdempotencyRecord>{};
  const cql::Row& row = rows.rows.front();
  auto created_i = Column(rows, "created_us");
  auto fp_i = Column(rows, "fingerprint");
  auto updated_i = Column(rows, "updated_us");
  auto attrs_i = Column(rows, "attributes");
  for (auto* r : {&created_i, &fp_i, &updated_i, &attrs_i}) {
    if (!*r) return tl::unexpected(r->error());
  }
  auto created = BigintCell(row, *created_i, "created_us");
  if (!created) return tl::unexpected(created.error());
  auto updated = BigintCell(row, *updated_i, "updated_us");
  if (!updated) return tl::unexpected(updated.error());
  if (*fp_i >= row.size() || !row[*fp_i] || row[*fp_i]->size() != 32) {
    return Corrupt("column 'fingerprint' is not 32 bytes");
  }
  auto attrs = MapCell(row, *attrs_i, "attributes");
  if (!attrs) return tl::unexpected(attrs.error());
  IdempotencyRecord rec;
  rec.created_us = *created;
  std::copy(row[*fp_i]->begin(), row[*fp_i]->end(), rec.fingerprint.begin());
  rec.user = user;
  rec.profile = ProfileOf(*updated, std::move(*attrs));
  return std::optional<IdempotencyRecord>(std::move(rec));
}

Result<std::vector<ScyllaHistoryEntry>> DecodeHistory(const cql::RowsResult& rows) {
  auto id_i = Column(rows, "update_id");
  if (!id_i) return tl::unexpected(id_i.error());
  auto attrs_i = Column(rows, "attributes");
  if (!attrs_i) return tl::unexpected(attrs_i.error());
  auto deleted_i = Column(rows, "deleted");
  if (!deleted_i) return tl::unexpected(deleted_i.error());
  std::vector<ScyllaHistoryEntry> out;
  for (const auto& row : rows.rows) {
    if (*id_i >= row.size() || !row[*id_i]) return Corrupt("column 'update_id' is null");
    auto id = cql::DecodeUuid(*row[*id_i]);
    if (!id) return Corrupt("column 'update_id': " + id.error().message);
    ScyllaHistoryEntry e;
    e.update_id = *id;
    e.ts_us = cql::TimeUuidMicros(*id);
    e.update.updated_us = e.ts_us;
    auto attrs = MapCell(row, *attrs_i, "attributes");
    if (!attrs) return tl::unexpected(attrs.error());
    for (auto& [k, v] : *attrs) e.update.cells.emplace(k, Cell{e.ts_us, std::move(v)});
    if (*deleted_i < row.size() && row[*deleted_i]) {
      auto del = cql::DecodeTextSet(*row[*deleted_i]);
      if (!del) return Corrupt("column 'deleted': " + del.error().message);
      for (auto& k : *del) e.update.cells.emplace(k, Cell{e.ts_us, std::nullopt});
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ficus::writer
