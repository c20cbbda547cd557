#include "domain/cdc/binlog_event.h"

#include <boost/crc.hpp>

#include "domain/cdc/byte_reader.h"
#include "domain/cdc/column_type.h"

namespace ficus::migrator::cdc {

namespace {

// Optional metadata field types of TABLE_MAP (binlog_row_metadata).
constexpr std::uint8_t kMetaSignedness = 1;
constexpr std::uint8_t kMetaColumnName = 4;

tl::unexpected<Error> Bad(std::uint8_t type, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "malformed binlog event " + EventTypeName(type) + ": " + what);
}

std::vector<bool> ReadBitmap(std::span<const std::uint8_t> b, std::size_t bits) {
  std::vector<bool> out(bits);
  for (std::size_t i = 0; i < bits; ++i) out[i] = ((b[i / 8] >> (i % 8)) & 1) != 0;
  return out;
}

Result<EventBody> DecodeTableMap(ByteReader& r, std::uint8_t type) {
  TableMap t;
  std::uint64_t flags = 0, len = 0, count = 0;
  if (!r.Uint(6, t.table_id) || !r.Uint(2, flags)) return Bad(type, "short post-header");
  if (!r.Uint(1, len) || !r.String(len, t.database) || !r.Skip(1)) {
    return Bad(type, "short database name");
  }
  if (!r.Uint(1, len) || !r.String(len, t.table) || !r.Skip(1)) {
    return Bad(type, "short table name");
  }
  if (!r.LenEnc(count) || count == 0 || count > 4096) return Bad(type, "bad column count");
  std::span<const std::uint8_t> types;
  if (!r.Bytes(count, types)) return Bad(type, "short column types");
  t.types.assign(types.begin(), types.end());
  std::uint64_t meta_len = 0;
  std::span<const std::uint8_t> meta;
  if (!r.LenEnc(meta_len) || !r.Bytes(meta_len, meta)) return Bad(type, "short column metadata");
  ByteReader m(meta);
  t.metadata.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t n = ColumnMetadataSize(t.types[i]);
    std::uint64_t v = 0;
    if (n == 1) {
      if (!m.Uint(1, v)) return Bad(type, "short metadata of column " + std::to_string(i + 1));
    } else if (n == 2) {
      std::uint64_t b0 = 0, b1 = 0;
      if (!m.Uint(1, b0) || !m.Uint(1, b1)) {
        return Bad(type, "short metadata of column " + std::to_string(i + 1));
      }
      // VARCHAR-like: little-endian max length; STRING/ENUM/SET/NEWDECIMAL/BIT: two bytes
      // kept high-first (real type or precision first), as MariaDB does.
      v = ColumnMetadataIsLittleEndian(t.types[i]) ? (b0 | (b1 << 8)) : ((b0 << 8) | b1);
    }
    t.metadata[i] = static_cast<std::uint16_t>(v);
  }
  if (m.remaining() != 0) return Bad(type, "column metadata longer than its columns need");
  std::span<const std::uint8_t> nulls;
  if (!r.Bytes((count + 7) / 8, nulls)) return Bad(type, "short null bitmap");
  t.nullable = ReadBitmap(nulls, count);
  t.is_unsigned.assign(count, false);
  // Optional metadata (binlog_row_metadata=MINIMAL/FULL): type, length, value.
  while (r.remaining() > 0) {
    std::uint64_t field = 0, flen = 0;
    std::span<const std::uint8_t> value;
    if (!r.Uint(1, field) || !r.LenEnc(flen) || !r.Bytes(flen, value)) {
      return Bad(type, "short optional metadata");
    }
    if (field == kMetaColumnName) {
      ByteReader names(value);
      while (names.remaining() > 0) {
        std::uint64_t nlen = 0;
        std::string name;
        if (!names.LenEnc(nlen) || !names.String(nlen, name)) return Bad(type, "short column name");
        t.column_names.push_back(std::move(name));
      }
      if (t.column_names.size() != count)
        return Bad(type, "column name count differs from columns");
    } else if (field == kMetaSignedness) {
      // One bit per numeric column, most significant bit first; 1 = unsigned.
      std::size_t bit = 0;
      for (std::size_t i = 0; i < count; ++i) {
        if (!ColumnIsNumeric(t.types[i])) continue;
        if (bit / 8 >= value.size()) return Bad(type, "short signedness bitmap");
        t.is_unsigned[i] = ((value[bit / 8] >> (7 - bit % 8)) & 1) != 0;
        ++bit;
      }
    }
  }
  return EventBody{std::move(t)};
}

Result<EventBody> DecodeRows(ByteReader& r, std::uint8_t type) {
  RowsEventBody e;
  const bool v2 = type >= kWriteRowsV2 && type <= kDeleteRowsV2;
  const int base = v2 ? kWriteRowsV2 : kWriteRowsV1;
  e.kind = static_cast<RowsKind>(type - base);
  std::uint64_t flags = 0;
  if (!r.Uint(6, e.table_id) || !r.Uint(2, flags)) return Bad(type, "short post-header");
  e.flags = static_cast<std::uint16_t>(flags);
  if (v2) {
    std::uint64_t extra = 0;
    if (!r.Uint(2, extra) || extra < 2 || !r.Skip(extra - 2)) return Bad(type, "short extra data");
  }
  std::uint64_t count = 0;
  if (!r.LenEnc(count) || count == 0 || count > 4096) return Bad(type, "bad column count");
  e.column_count = static_cast<std::uint32_t>(count);
  std::span<const std::uint8_t> bm;
  if (!r.Bytes((count + 7) / 8, bm)) return Bad(type, "short column bitmap");
  e.columns_before = ReadBitmap(bm, count);
  if (e.kind == RowsKind::kUpdate) {
    if (!r.Bytes((count + 7) / 8, bm)) return Bad(type, "short update column bitmap");
    e.columns_after = ReadBitmap(bm, count);
  }
  auto rest = r.Rest();
  e.rows.assign(rest.begin(), rest.end());
  return EventBody{std::move(e)};
}

}  // namespace

std::string EventTypeName(std::uint8_t type) {
  switch (type) {
    case kQueryEvent:
      return "QUERY";
    case kStopEvent:
      return "STOP";
    case kRotateEvent:
      return "ROTATE";
    case kIntvarEvent:
      return "INTVAR";
    case kRandEvent:
      return "RAND";
    case kUserVarEvent:
      return "USER_VAR";
    case kFormatDescriptionEvent:
      return "FORMAT_DESCRIPTION";
    case kXidEvent:
      return "XID";
    case kTableMapEvent:
      return "TABLE_MAP";
    case kWriteRowsV1:
    case kWriteRowsV2:
      return "WRITE_ROWS";
    case kUpdateRowsV1:
    case kUpdateRowsV2:
      return "UPDATE_ROWS";
    case kDeleteRowsV1:
    case kDeleteRowsV2:
      return "DELETE_ROWS";
    case kHeartbeatEvent:
      return "HEARTBEAT";
    case kAnnotateRowsEvent:
      return "ANNOTATE_ROWS";
    case kBinlogCheckpointEvent:
      return "BINLOG_CHECKPOINT";
    case kGtidEvent:
      return "GTID";
    case kGtidListEvent:
      return "GTID_LIST";
    case kStartEncryptionEvent:
      return "START_ENCRYPTION";
    default:
      return "type " + std::to_string(type);
  }
}

Result<Event> DecodeEvent(std::span<const std::uint8_t> bytes, bool checksum) {
  Event ev;
  ByteReader h(bytes);
  std::uint64_t v = 0;
  if (bytes.size() < kEventHeaderSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "malformed binlog event: " + std::to_string(bytes.size()) +
                         " bytes, shorter than the 19-byte header");
  }
  h.Le(ev.header.timestamp);
  h.Uint(1, v);
  ev.header.type = static_cast<std::uint8_t>(v);
  h.Le(ev.header.server_id);
  h.Le(ev.header.event_size);
  h.Le(ev.header.log_pos);
  h.Le(ev.header.flags);
  const std::uint8_t type = ev.header.type;
  if (ev.header.event_size != bytes.size()) {
    return Bad(type, "header says " + std::to_string(ev.header.event_size) + " bytes, got " +
                         std::to_string(bytes.size()));
  }
  std::size_t body_end = bytes.size();
  bool verify = checksum;
  if (type == kFormatDescriptionEvent) {
    // binlog version(2) server version(50) created(4) header length(1) post-header
    // lengths(...) checksum algorithm(1) checksum(4): the event says for itself.
    if (bytes.size() < kEventHeaderSize + 57 + 5) return Bad(type, "too short");
    const std::uint8_t alg = bytes[bytes.size() - 5];
    if (alg > 1 && alg != 0xFF)
      return Bad(type, "unknown checksum algorithm " + std::to_string(alg));
    verify = alg == 1;
    body_end = bytes.size() - 5;
    ev.body = FormatDescription{alg == 1};
  } else if (checksum) {
    if (bytes.size() < kEventHeaderSize + 4) return Bad(type, "too short for its CRC32");
    body_end = bytes.size() - 4;
  }
  if (verify) {
    const std::size_t crc_at = bytes.size() - 4;
    boost::crc_32_type crc;
    if (type == kFormatDescriptionEvent && (ev.header.flags & kBinlogInUseFlag) != 0) {
      // The server sums a FORMAT_DESCRIPTION with LOG_EVENT_BINLOG_IN_USE_F
      // clear: the flag is set while the file is open and cleared at close.
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.begin() + static_cast<long>(crc_at));
      copy[17] = static_cast<std::uint8_t>(copy[17] & ~kBinlogInUseFlag);
      crc.process_bytes(copy.data(), copy.size());
    } else {
      crc.process_bytes(bytes.data(), crc_at);
    }
    ByteReader c(bytes.subspan(crc_at));
    std::uint32_t want = 0;
    c.Le(want);
    if (crc.checksum() != want) return Bad(type, "CRC32 mismatch (corrupted event)");
  }
  if (type == kFormatDescriptionEvent) return ev;
  ByteReader r(bytes.subspan(kEventHeaderSize, body_end - kEventHeaderSize));
  switch (type) {
    case kGtidEvent: {
      GtidEventBody g;
      std::uint64_t flags = 0;
      if (!r.Le(g.gtid.sequence) || !r.Le(g.gtid.domain) || !r.Uint(1, flags)) {
        return Bad(type, "too short");
      }
      g.gtid.server = ev.header.server_id;
      g.flags = static_cast<std::uint8_t>(flags);
      ev.body = g;
      return ev;
    }
    case kQueryEvent: {
      QueryEventBody q;
      std::uint64_t db_len = 0, status_len = 0;
      if (!r.Skip(8) || !r.Uint(1, db_len) || !r.Skip(2) || !r.Uint(2, status_len) ||
          !r.Skip(status_len) || !r.String(db_len, q.database) || !r.Skip(1)) {
        return Bad(type, "too short");
      }
      auto rest = r.Rest();
      q.statement.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
      ev.body = std::move(q);
      return ev;
    }
    case kXidEvent: {
      XidEventBody x;
      if (!r.Le(x.xid)) return Bad(type, "too short");
      ev.body = x;
      return ev;
    }
    case kTableMapEvent: {
      auto t = DecodeTableMap(r, type);
      if (!t) return tl::unexpected(t.error());
      ev.body = std::move(*t);
      return ev;
    }
    case kWriteRowsV1:
    case kUpdateRowsV1:
    case kDeleteRowsV1:
    case kWriteRowsV2:
    case kUpdateRowsV2:
    case kDeleteRowsV2: {
      auto rows = DecodeRows(r, type);
      if (!rows) return tl::unexpected(rows.error());
      ev.body = std::move(*rows);
      return ev;
    }
    case kRotateEvent: {
      RotateEventBody rot;
      if (!r.Le(rot.position)) return Bad(type, "too short");
      auto rest = r.Rest();
      rot.file.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
      ev.body = std::move(rot);
      return ev;
    }
    case kHeartbeatEvent:
      ev.body = HeartbeatBody{};
      return ev;
    case kStopEvent:
    case kIntvarEvent:
    case kRandEvent:
    case kUserVarEvent:
    case kAnnotateRowsEvent:
    case kBinlogCheckpointEvent:
    case kGtidListEvent:
      ev.body = Skipped{};
      return ev;
    default:
      break;
  }
  if ((ev.header.flags & kIgnorableFlag) != 0) {
    ev.body = Skipped{};
    return ev;
  }
  std::string why = "the follower cannot apply it";
  if (type >= 166 && type <= 171) why = "compressed row events: set log_bin_compress=OFF";
  if (type == kStartEncryptionEvent) why = "encrypted binlog: the follower cannot read it";
  return MakeError(ErrorCode::kUnsupported,
                   "unknown binlog event " + EventTypeName(type) + " (" + why + ")");
}

}  // namespace ficus::migrator::cdc
