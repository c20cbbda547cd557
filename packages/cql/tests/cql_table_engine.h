// CqlTableEngine: an in-memory TEST MODEL of Cassandra/ScyllaDB tables, so
// code written against a real cluster (the profile writer's ScyllaDB store)
// can run its data contract in `make test` over ScriptedCqlPeer, without a
// cluster. Not a database: one node's view, no commit log, no compaction,
// no paging, no consistency levels (every write is seen by every read).
//
// What it models, and only that (anything else is an error, never guessed):
//   * DDL: CREATE KEYSPACE / CREATE TABLE / DROP KEYSPACE in the subset of
//     cql_subset.h - the files of packages/schema/cql run as they are;
//     partition keys (composite too), clustering columns with ASC/DESC
//     order, default_time_to_live.
//   * Writes: INSERT (a row marker plus cells), UPDATE (cells only),
//     `c = ?`, map/set `c = c + ?` (one cell per element) and
//     `c = c - ?` (one tombstone per element), USING TIMESTAMP / TTL, the
//     protocol's default timestamp, else the engine's clock; a bound null
//     writes a tombstone, UNSET leaves the column alone (protocol v4).
//     Values are validated against the column types (sizes, UTF-8, timeuuid
//     version, collection framing) with Cassandra-like messages.
//   * Cells reconcile per cell, as a replica does (cql_cell.h: last write
//     wins by write timestamp; at equal timestamps a tombstone beats a live
//     cell, then expiry, then the greater value, bytes unsigned). TTL'd
//     cells and row markers expire on the engine's clock (AdvanceClock) and
//     then shadow older data like tombstones.
//   * Reads: SELECT of columns by full partition key, rows in clustering
//     order, LIMIT; a row exists while its marker or any cell is live; an
//     empty non-frozen collection reads as null.
//   * An unlogged (or logged) BATCH is validated whole, then applied
//     atomically (as Cassandra does within one partition).
//
// Over the wire: Handler() is a ScriptedCqlPeer handler answering PREPARE
// (bind metadata and partition-key indexes derived from the table, as a
// node's), EXECUTE, BATCH and QUERY; system.* queries and the handshake
// fall through to the peer's defaults. Errors are CQL ERROR frames
// (Invalid 0x2200, Syntax 0x2000, Unprepared 0x2500). One engine may back
// several peers (a ring whose replicas always agree).
//
// Thread-safe: one mutex around the tables.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql_cell.h"
#include "cql_subset.h"
#include "ficus/cql/frame.h"
#include "scripted_cql_peer.h"

namespace ficus::cql::testing {

class CqlTableEngine {
 public:
  CqlTableEngine();
  ~CqlTableEngine();
  CqlTableEngine(const CqlTableEngine&) = delete;
  CqlTableEngine& operator=(const CqlTableEngine&) = delete;

  // Runs one statement with its bound values. `default_ts_us` is the write
  // timestamp of a write without USING TIMESTAMP (a batch's or a query's);
  // nullopt: the engine's clock. Errors: kInvalidArgument naming the column,
  // marker or token.
  Result<ResultBody> Execute(std::string_view query, const std::vector<Value>& values,
                             std::optional<std::int64_t> default_ts_us = std::nullopt);

  // The peer handler (see above). The engine must outlive every peer using it.
  PeerHandler Handler();

  // Moves the engine's clock (TTL expiry, default timestamps) forward.
  void AdvanceClock(std::chrono::seconds by);
  [[nodiscard]] std::int64_t NowUs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ficus::cql::testing
