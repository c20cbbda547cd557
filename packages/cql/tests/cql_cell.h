// StoredCell and CellWins: one cell of the in-memory table engine
// (cql_table_engine.h) and the rule that decides which of two versions of
// a cell a Cassandra/ScyllaDB replica keeps. A TEST model of the database's
// reconciliation, not a database. Pure functions, thread-safe.
//
// The rule, in order (CellWins(a, b, now) is true when `a` is kept):
//   1. the greater write timestamp wins (last write wins, per cell);
//   2. equal timestamps: a dead cell (tombstone, or a TTL'd cell whose
//      expiry has passed) beats a live one; two dead cells: the later
//      local deletion time wins;
//   3. two live cells: an expiring cell beats one without a TTL; two
//      expiring cells: the later expiry wins, then the shorter TTL (it was
//      written later);
//   4. then the greater value wins, bytes compared UNSIGNED (memcmp order,
//      then the shorter prefix loses).
// Sources:
//   - ScyllaDB docs/dev/timestamp-conflict-resolution.md: "dead cells win
//     over live cells; and if both cells are deleted, the one with the later
//     deletion time prevails", then expiry ("cells that have an expiration
//     time win over cells with no expiration time"; the later expiration
//     wins; at equal expiry the one written later), and finally the values;
//     scylladb commit 87b4606 "atomic_cell: compare value last" moved the
//     value after the expiry for Cassandra compatibility (CASSANDRA-14592);
//   - Apache Cassandra org.apache.cassandra.db.Conflicts#resolveRegular:
//     timestamp, then `leftLive != rightLive` (the dead side wins), then the
//     values through FastByteOperations.compareUnsigned. NOTE: older copies of
//     that method (3.0-era sources) compare with ByteBuffer.compareTo, i.e.
//     SIGNED bytes - on a cluster running one, a tie between a non-ASCII and an
//     ASCII value resolves the other way (the conformance case
//     TiesCompareValuesAsUnsignedBytes would fail in the live instance);
//   - DataStax driver docs, "Query timestamps"
//     (docs.datastax.com/en/datastax-drivers/developing/query-timestamps.html):
//     "If the operations have the same timestamp, DELETE has priority over
//     INSERT and UPDATE ... the lexically larger value of data has priority".
// An expired cell is dead at its own write timestamp: it shadows older data
// like a tombstone (same ScyllaDB page).
#pragma once

#include <cstdint>
#include <optional>

#include "ficus/cql/wire.h"

namespace ficus::cql::testing {

struct StoredCell {
  std::int64_t ts = 0;          // write timestamp, microseconds
  std::optional<Bytes> value;   // nullopt: a tombstone
  std::int32_t ttl_s = 0;       // 0: no TTL
  std::int64_t expiry_s = 0;    // with a TTL: the second it expires
  std::int64_t deletion_s = 0;  // tombstones: the second it was written

  [[nodiscard]] bool Live(std::int64_t now_s) const {
    return value.has_value() && (ttl_s == 0 || now_s < expiry_s);
  }
  // When the cell became dead (tombstone write time, or its expiry).
  [[nodiscard]] std::int64_t LocalDeletion() const { return value ? expiry_s : deletion_s; }
};

// True when a replica keeps `a` over `b` (see the rule above). For two
// identical cells either choice is the same; the result is then true.
bool CellWins(const StoredCell& a, const StoredCell& b, std::int64_t now_s);

// Unsigned bytewise comparison (<0, 0, >0), the order of text, blob and
// the values' tie-break.
int CompareUnsigned(ByteView a, ByteView b);

}  // namespace ficus::cql::testing
