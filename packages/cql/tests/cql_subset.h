// ParseCql: the small subset of CQL the in-memory table engine
// (cql_table_engine.h) runs - the DDL of packages/schema/cql and the
// statements of the ScyllaDB profile store - parsed into plain structs.
// A TEST parser, not CQL's grammar: values are bind markers only (`?`), no
// literals; anything outside the subset is an error naming what was found,
// so a new statement shape fails loudly instead of being half-understood.
//
//   CREATE KEYSPACE [IF NOT EXISTS] ks WITH ...
//   CREATE TABLE [IF NOT EXISTS] ks.t (col type [PRIMARY KEY], ...,
//       [PRIMARY KEY (pk | (pk1, pk2), ck, ...)])
//       [WITH CLUSTERING ORDER BY (ck ASC|DESC, ...) AND default_time_to_live = N AND ...]
//   INSERT INTO ks.t (c1, ...) VALUES (?, ...) [USING TIMESTAMP ? | TTL ? [AND ...]]
//   UPDATE ks.t [USING ...] SET c = ? | c = c + ? | c = c - ?, ... WHERE k = ? [AND ...]
//   SELECT c1, ... FROM ks.t WHERE k = ? [AND ...] [LIMIT ?]
//   DROP KEYSPACE [IF EXISTS] ks
// Types: text/varchar, ascii, bigint, int, boolean, uuid, timeuuid,
// timestamp, blob, map<,>, set<>, list<>, frozen<...>.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ficus/result.h"

namespace ficus::cql::testing {

struct CqlType {
  std::uint16_t id = 0;  // ficus::cql::type_id
  std::vector<CqlType> params;
  bool frozen = false;
  // A non-frozen collection: one cell per element.
  [[nodiscard]] bool MultiCell() const;
};

struct TableDef {
  std::string keyspace, name;
  std::vector<std::pair<std::string, CqlType>> columns;  // declaration order
  std::vector<std::string> partition_key;
  std::vector<std::string> clustering;
  std::vector<bool> clustering_desc;  // per clustering column
  std::int32_t default_ttl_s = 0;
  [[nodiscard]] const CqlType* Type(std::string_view column) const;
  [[nodiscard]] bool IsKey(std::string_view column) const;
};

enum class CqlKind : std::uint8_t {
  kCreateKeyspace,
  kCreateTable,
  kDropKeyspace,
  kInsert,
  kUpdate,
  kSelect
};

// What the i-th bind marker binds.
enum class MarkerRole : std::uint8_t { kColumn, kAdd, kRemove, kTimestamp, kTtl, kLimit };
struct Marker {
  MarkerRole role = MarkerRole::kColumn;
  std::string column;  // kColumn, kAdd, kRemove
};

struct Assignment {
  enum class Op : std::uint8_t { kSet, kAdd, kRemove };
  std::string column;
  Op op = Op::kSet;
  std::size_t marker = 0;
};

struct ParsedCql {
  CqlKind kind = CqlKind::kSelect;
  std::string keyspace, table;
  TableDef table_def;                                      // kCreateTable
  std::vector<Assignment> assignments;                     // kInsert, kUpdate
  std::vector<std::pair<std::string, std::size_t>> where;  // column = marker
  std::vector<std::string> select;                         // kSelect
  std::optional<std::size_t> timestamp_marker, ttl_marker, limit_marker;
  std::vector<Marker> markers;  // in order of appearance
};

// kInvalidArgument with "cql subset: <what> at '<token>'" outside the subset.
Result<ParsedCql> ParseCql(std::string_view text);

}  // namespace ficus::cql::testing
