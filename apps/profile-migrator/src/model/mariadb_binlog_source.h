// MariaDbBinlogSource: BinlogSource on libmariadb's replication API
// (mariadb_rpl.h, Debian libmariadb-dev).
//
// Open(): connects with the replication account, declares the session
// (@master_binlog_checksum = the server's binlog_checksum, so events keep
// their CRC32; @mariadb_slave_capability = 4, GTID-aware; @slave_connect_state
// = the position; @slave_gtid_strict_mode = 1; a 1 s heartbeat so an idle
// stream still wakes the reader) and sends COM_BINLOG_DUMP as replica
// `server_id` (must differ from the server's and from every other replica:
// a second connection with the same id makes the server drop the first).
// Next() uses mariadb_rpl_fetch only as transport: the event's raw bytes
// go to the pure decoder (domain/cdc/binlog_event.h).
// Server error 1236 "could not find GTID state" / "not in the master's
// binlog" becomes PreconditionFailed; 1045 (access denied) InvalidArgument;
// other failures Unavailable.
#pragma once

#include <cstdint>
#include <memory>

#include "model/binlog_source.h"
#include "model/mariadb_legacy_store.h"

namespace ficus::migrator {

struct BinlogSourceOptions {
  MySqlOptions db;  // the replication account; `database` unused
  std::uint32_t server_id = 4711;
  int heartbeat_ms = 1000;
};

std::unique_ptr<BinlogSource> MakeMariaDbBinlogSource(const BinlogSourceOptions& options);

// The GTID position of a consistent snapshot taken now (START TRANSACTION
// WITH CONSISTENT SNAPSHOT, binlog_snapshot_file/position, BINLOG_GTID_POS),
// i.e. a position P such that every transaction up to P is visible to any
// snapshot opened after this call returns and every later one is in the
// binlog after P. Needs a normal account (not the replication one).
Result<std::string> SnapshotGtidPosition(const MySqlOptions& options);

// @@gtid_binlog_pos: the newest transaction of each domain in the binlog.
Result<std::string> ServerGtidPosition(const MySqlOptions& options);

}  // namespace ficus::migrator
