// BinlogStream: turns the raw events of one replication stream into
// committed transactions of profile changes. Pure: bytes in, values out.
//
// Feed each event in stream order. A transaction runs from its GTID event
// to its XID (InnoDB) or COMMIT/ROLLBACK query (non-transactional engines:
// the rows it carries were written anyway); a GTID flagged standalone (DDL)
// is complete with its one QUERY event and yields an empty transaction with
// `ddl` set. Every completed transaction is returned, with or without
// profile changes, so the caller can advance its position past it.
// Transactions rolled back in InnoDB are never in the binlog.
//
// Errors stop the stream (the caller must not skip the event): a malformed
// or unknown event (binlog_event.h), a ROWS event with no TABLE_MAP, an
// event out of place (ROWS outside a transaction, a GTID inside one), a
// statement-logged change that names a profile table (binlog_format must be
// ROW), a profile row the rules of profile_changes.h refuse. Messages end
// with where it happened ("at binlog.000003:4711, GTID 0-1-42").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/cdc/binlog_event.h"
#include "domain/cdc/gtid.h"
#include "domain/cdc/profile_changes.h"
#include "ficus/result.h"

namespace ficus::migrator::cdc {

struct Transaction {
  Gtid gtid;
  std::uint32_t event_time = 0;  // GTID event's header timestamp (seconds)
  std::vector<AttributeChange> changes;
  std::vector<ProfileDeletion> deletions;
  std::uint64_t row_events = 0;    // rows of profile tables
  std::uint64_t skipped_rows = 0;  // rows of other tables
  bool ddl = false;
  std::string statement;  // the DDL, for the log
};

struct StreamCounters {
  std::uint64_t events = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t transactions = 0;
  std::uint64_t ddl_skipped = 0;
};

class BinlogStream {
 public:
  // `checksum`: whether events carry a CRC32 before the first
  // FORMAT_DESCRIPTION (what the session asked the server for).
  BinlogStream(ProfileTables tables, bool checksum);

  // The transaction this event completed, if any.
  Result<std::optional<Transaction>> Feed(std::span<const std::uint8_t> event);

  // Header timestamp of the last event that had one (heartbeats have none).
  [[nodiscard]] std::uint32_t last_event_time() const { return last_event_time_; }
  [[nodiscard]] const StreamCounters& counters() const { return counters_; }
  // "binlog.000003:4711", for messages.
  [[nodiscard]] std::string Where() const;

 private:
  Status OnQuery(const Event& ev, const QueryEventBody& q, std::optional<Transaction>& done);
  Status OnRows(const Event& ev, const RowsEventBody& rows);
  tl::unexpected<Error> Fail(const Error& e) const;

  ProfileTables tables_;
  bool checksum_;
  std::map<std::uint64_t, TableMap> maps_;
  std::optional<Transaction> open_;
  std::string file_;
  std::uint32_t log_pos_ = 0;
  std::uint32_t last_event_time_ = 0;
  StreamCounters counters_;
};

}  // namespace ficus::migrator::cdc
