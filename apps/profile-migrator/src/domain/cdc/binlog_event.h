// Decoder of MariaDB binary log events (binlog format v4), from raw bytes.
//
// Pure: no I/O, no libmariadb. Input is one event as the server sends it
// on a replication connection (after the protocol's 0x00 OK byte) or as it
// sits in a binlog file: the 19-byte common header, the body, and a 4-byte
// CRC32 trailer when the binlog has checksums. Reference: MariaDB's
// sql/log_event.h and the "Binlog Event" pages of the MariaDB KB.
//
// Decoded: FORMAT_DESCRIPTION (learns whether events carry a CRC32), GTID,
// QUERY, XID, TABLE_MAP (column types, metadata, nullability and, with
// binlog_row_metadata=FULL, column names), WRITE/UPDATE/DELETE_ROWS v1 and
// v2 (the row bytes are kept; row_image.h splits them into values), ROTATE,
// HEARTBEAT. Events that carry nothing for row-based capture (GTID_LIST,
// BINLOG_CHECKPOINT, ANNOTATE_ROWS, STOP, INTVAR, RAND, USER_VAR, and any
// event flagged LOG_EVENT_IGNORABLE_F) decode to `Skipped`.
//
// Errors (never a silent skip): InvalidArgument for a truncated or
// inconsistent event or a CRC mismatch, Unsupported for an event type the
// follower cannot apply (compressed or encrypted binlogs, unknown types);
// messages name the event type and what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "domain/cdc/gtid.h"
#include "ficus/result.h"

namespace ficus::migrator::cdc {

// Event type codes used here (sql/log_event.h).
enum EventType : std::uint8_t {
  kQueryEvent = 2,
  kStopEvent = 3,
  kRotateEvent = 4,
  kIntvarEvent = 5,
  kRandEvent = 13,
  kUserVarEvent = 14,
  kFormatDescriptionEvent = 15,
  kXidEvent = 16,
  kTableMapEvent = 19,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kHeartbeatEvent = 27,
  kWriteRowsV2 = 30,
  kUpdateRowsV2 = 31,
  kDeleteRowsV2 = 32,
  kAnnotateRowsEvent = 160,
  kBinlogCheckpointEvent = 161,
  kGtidEvent = 162,
  kGtidListEvent = 163,
  kStartEncryptionEvent = 164,
};

inline constexpr std::size_t kEventHeaderSize = 19;
inline constexpr std::uint16_t kIgnorableFlag = 0x0080;  // LOG_EVENT_IGNORABLE_F
inline constexpr std::uint8_t kBinlogInUseFlag = 0x01;   // LOG_EVENT_BINLOG_IN_USE_F
inline constexpr std::uint8_t kGtidStandalone = 0x01;    // FL_STANDALONE: no COMMIT follows

struct EventHeader {
  std::uint32_t timestamp = 0;  // seconds since the epoch (0 for artificial events)
  std::uint8_t type = 0;
  std::uint32_t server_id = 0;
  std::uint32_t event_size = 0;
  std::uint32_t log_pos = 0;  // end of this event in its binlog file
  std::uint16_t flags = 0;
};

struct FormatDescription {
  bool checksum = false;  // events after this one end in a CRC32
};

struct GtidEventBody {
  Gtid gtid;
  std::uint8_t flags = 0;
  [[nodiscard]] bool standalone() const { return (flags & kGtidStandalone) != 0; }
};

struct QueryEventBody {
  std::string database;
  std::string statement;
};

struct XidEventBody {
  std::uint64_t xid = 0;
};

struct TableMap {
  std::uint64_t table_id = 0;
  std::string database;
  std::string table;
  std::vector<std::uint8_t> types;      // MYSQL_TYPE_* per column
  std::vector<std::uint16_t> metadata;  // per column, decoded to one number (see row_image.cc)
  std::vector<bool> nullable;
  std::vector<std::string> column_names;  // empty unless binlog_row_metadata=FULL
  std::vector<bool> is_unsigned;          // per column; false where not numeric or unknown
};

enum class RowsKind { kWrite, kUpdate, kDelete };

struct RowsEventBody {
  RowsKind kind = RowsKind::kWrite;
  std::uint64_t table_id = 0;
  std::uint16_t flags = 0;
  std::uint32_t column_count = 0;
  std::vector<bool> columns_before;  // columns present in each (before) image
  std::vector<bool> columns_after;   // update only: columns present in the after image
  std::vector<std::uint8_t> rows;    // the row images, back to back
};

struct RotateEventBody {
  std::uint64_t position = 0;
  std::string file;
};

struct HeartbeatBody {};

struct Skipped {};

using EventBody =
    std::variant<Skipped, FormatDescription, GtidEventBody, QueryEventBody, XidEventBody, TableMap,
                 RowsEventBody, RotateEventBody, HeartbeatBody>;

struct Event {
  EventHeader header;
  EventBody body;
};

// Name of an event type for messages ("TABLE_MAP", "type 77").
std::string EventTypeName(std::uint8_t type);

// Decodes one event. `checksum`: whether the event ends in a CRC32 (what the
// last FORMAT_DESCRIPTION said, or what the replication session asked
// for); a FORMAT_DESCRIPTION says for itself.
Result<Event> DecodeEvent(std::span<const std::uint8_t> bytes, bool checksum);

}  // namespace ficus::migrator::cdc
