// What the ScyllaDB store says to the cluster: the CQL text of every
// statement (keyspace-qualified, prepared once per session), the values an
// update binds, and the decoding of the rows it reads back. Tables:
// packages/schema/cql/*.cql. Pure functions, no I/O; thread-safe.
//
// One update (a ProfileUpdate with stamp T microseconds) is, in one
// unlogged batch routed by user_id (all statements share the partition key,
// so the batch goes to one replica set and costs one round trip):
//   INSERT INTO profiles (...) VALUES (user, T/1000 ms, update_id, {set}, {deleted})
//     USING TIMESTAMP T
//   UPDATE profiles_current USING TIMESTAMP T
//     SET attributes = attributes + {set}, updated_us = T WHERE user_id = user
//   UPDATE profiles_current USING TIMESTAMP T
//     SET attributes = attributes - {deleted}, updated_us = T WHERE user_id = user
// (either UPDATE is left out when the update sets, or deletes, nothing).
// Empty history collections are bound UNSET (protocol v4), so no null cell
// (a tombstone) is written for them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/idempotency.h"
#include "domain/profile.h"
#include "ficus/cql/frame.h"
#include "ficus/result.h"
#include "model/profile_store.h"

namespace ficus::writer {

enum class ScyllaStatement : std::uint8_t {
  kInsertHistory,
  kAddAttributes,
  kRemoveAttributes,
  kSelectCurrent,
  kInsertIdempotency,
  kSelectIdempotency,
  kSelectHistory,
};
inline constexpr std::size_t kScyllaStatementCount = 7;

// CQL text of each statement for `keyspace` (already validated).
std::array<std::string, kScyllaStatementCount> ScyllaStatementTexts(std::string_view keyspace);

struct BoundStatement {
  ScyllaStatement statement;
  std::vector<cql::Value> values;
};

// The history row's update_id: a version-1 timeuuid of the update's stamp
// whose clock-sequence and node bits hash the user and the attributes, so a
// replay of the same update maps to the same row and different updates with
// equal stamps to different rows.
cql::Uuid HistoryUpdateId(const ProfileUpdate& update);

// The batch of one update, in the order above (history first: it carries the
// routing key).
std::vector<BoundStatement> UpdateStatements(const ProfileUpdate& update);
BoundStatement SelectCurrent(const Uuid& user);
// TTL: kIdempotencyRetentionUs, bound per write (the table default is the same).
BoundStatement InsertIdempotency(const Uuid& user, const IdempotencyWrite& write,
                                 const Profile& merged);
BoundStatement SelectIdempotency(const Uuid& user, std::string_view key);
BoundStatement SelectHistory(const Uuid& user, std::int32_t limit);

// The merged profile from a profiles_current read: visible attributes only.
// kNotFound when there is no row. Per-key timestamps and tombstones stay in
// the database (it applies LWW itself); cells carry ts_us 0 ("not read").
Result<Profile> DecodeCurrent(const cql::RowsResult& rows);
// nullopt when there is no row.
Result<std::optional<IdempotencyRecord>> DecodeIdempotency(const cql::RowsResult& rows,
                                                           const Uuid& user);

struct ScyllaHistoryEntry {
  std::int64_t ts_us = 0;  // from update_id
  cql::Uuid update_id;
  Profile update;  // the update as a partial profile (deleted keys: tombstone cells)
};
Result<std::vector<ScyllaHistoryEntry>> DecodeHistory(const cql::RowsResult& rows);

}  // namespace ficus::writer
