#include "ficus/cql/frame.h"

#include <fmt/format.h>

#include <cassert>

namespace ficus::cql {

namespace {

// QUERY/EXECUTE/BATCH parameter flags (section 4.1.4).
constexpr std::uint8_t kQValues = 0x01;
constexpr std::uint8_t kQSkipMetadata = 0x02;
constexpr std::uint8_t kQPageSize = 0x04;
constexpr std::uint8_t kQPagingState = 0x08;
constexpr std::uint8_t kQSerialConsistency = 0x10;
constexpr std::uint8_t kQTimestamp = 0x20;
constexpr std::uint8_t kQNamesForValues = 0x40;

constexpr std::int32_t kResultVoid = 0x0001;
constexpr std::int32_t kResultRows = 0x0002;
constexpr std::int32_t kResultSetKeyspace = 0x0003;
constexpr std::int32_t kResultPrepared = 0x0004;
constexpr std::int32_t kResultSchemaChange = 0x0005;

// Header with a length placeholder; FinishFrame patches it.
Writer StartFrame(std::uint8_t version, std::uint8_t flags, std::int16_t stream, Opcode op) {
  Writer w;
  w.Byte(version);
  w.Byte(flags);
  w.Short(static_cast<std::uint16_t>(stream));
  w.Byte(static_cast<std::uint8_t>(op));
  w.Int(0);
  return w;
}

Bytes FinishFrame(Writer w) {
  w.PatchInt(5, static_cast<std::int32_t>(w.size() - kHeaderSize));
  return std::move(w).Take();
}

void WriteQueryParameters(Writer& w, const QueryParameters& p) {
  w.ConsistencyField(p.consistency);
  std::uint8_t flags = 0;
  if (p.values) flags |= kQValues;
  if (p.skip_metadata) flags |= kQSkipMetadata;
  if (p.page_size) flags |= kQPageSize;
  if (p.paging_state) flags |= kQPagingState;
  if (p.serial_consistency) flags |= kQSerialConsistency;
  if (p.timestamp) flags |= kQTimestamp;
  w.Byte(flags);
  if (p.values) {
    w.Short(static_cast<std::uint16_t>(p.values->size()));
    for (const auto& v : *p.values) w.ValueField(v);
  }
  if (p.page_size) w.Int(*p.page_size);
  if (p.paging_state) w.BytesValue(*p.paging_state);
  if (p.serial_consistency) w.ConsistencyField(*p.serial_consistency);
  if (p.timestamp) w.Long(*p.timestamp);
}

Result<QueryParameters> ReadQueryParameters(Reader& r) {
  QueryParameters p;
  FICUS_CQL_TRY(p.consistency, r.ConsistencyField("consistency"));
  std::size_t flags_at = r.offset();
  FICUS_CQL_TRY(std::uint8_t flags, r.Byte("query flags"));
  if (flags & kQNamesForValues) {
    return tl::unexpected(
        r.Invalid(flags_at, "query flags", "names for values (0x40) unsupported"));
  }
  if (flags & 0x80) {
    return tl::unexpected(r.Invalid(flags_at, "query flags", "unknown flag 0x80"));
  }
  p.skip_metadata = flags & kQSkipMetadata;
  if (flags & kQValues) {
    FICUS_CQL_TRY(std::uint16_t n, r.Short("value count"));
    p.values.emplace();
    for (std::uint16_t i = 0; i < n; ++i) {
      FICUS_CQL_TRY(Value v, r.ValueField(fmt::format("value {}", i)));
      p.values->push_back(std::move(v));
    }
  }
  if (flags & kQPageSize) {
    FICUS_CQL_TRY(std::int32_t n, r.Int("page size"));
    p.page_size = n;
  }
  if (flags & kQPagingState) {
    FICUS_CQL_TRY(Bytes b, r.NonNullBytes("paging state"));
    p.paging_state = std::move(b);
  }
  if (flags & kQSerialConsistency) {
    FICUS_CQL_TRY(Consistency c, r.ConsistencyField("serial consistency"));
    p.serial_consistency = c;
  }
  if (flags & kQTimestamp) {
    std::size_t at = r.offset();
    FICUS_CQL_TRY(std::int64_t ts, r.Long("timestamp"));
    if (ts < 0) return tl::unexpected(r.Invalid(at, "timestamp", "negative timestamp"));
    p.timestamp = ts;
  }
  return p;
}

Error TrailingBytes(const Reader& r) {
  return r.Invalid(r.offset(), "end of body",
                   fmt::format("{} unexpected trailing bytes", r.remaining()));
}

// ---- request body encoders ----

struct RequestBodyWriter {
  Writer& w;
  void operator()(const StartupRequest& s) const { w.StringMapField(s.options); }
  void operator()(const OptionsRequest&) const {}
  void operator()(const AuthResponseRequest& a) const { w.OptBytes(a.token); }
  void operator()(const QueryRequest& q) const {
    w.LongString(q.query);
    WriteQueryParameters(w, q.params);
  }
  void operator()(const PrepareRequest& p) const { w.LongString(p.query); }
  void operator()(const ExecuteRequest& e) const {
    w.ShortBytes(e.id);
    WriteQueryParameters(w, e.params);
  }
  void operator()(const BatchRequest& b) const {
    w.Byte(static_cast<std::uint8_t>(b.type));
    w.Short(static_cast<std::uint16_t>(b.statements.size()));
    for (const auto& s : b.statements) {
      w.Byte(s.prepared ? 1 : 0);
      if (s.prepared) {
        w.ShortBytes(s.id);
      } else {
        w.LongString(s.query);
      }
      w.Short(static_cast<std::uint16_t>(s.values.size()));
      for (const auto& v : s.values) w.ValueField(v);
    }
    w.ConsistencyField(b.consistency);
    std::uint8_t flags = 0;
    if (b.serial_consistency) flags |= kQSerialConsistency;
    if (b.timestamp) flags |= kQTimestamp;
    w.Byte(flags);
    if (b.serial_consistency) w.ConsistencyField(*b.serial_consistency);
    if (b.timestamp) w.Long(*b.timestamp);
  }
  void operator()(const RegisterRequest& r) const { w.StringList(r.events); }
};

struct RequestOpcodeOf {
  Opcode operator()(const StartupRequest&) const { return Opcode::kStartup; }
  Opcode operator()(const OptionsRequest&) const { return Opcode::kOptions; }
  Opcode operator()(const AuthResponseRequest&) const { return Opcode::kAuthResponse; }
  Opcode operator()(const QueryRequest&) const { return Opcode::kQuery; }
  Opcode operator()(const PrepareRequest&) const { return Opcode::kPrepare; }
  Opcode operator()(const ExecuteRequest&) const { return Opcode::kExecute; }
  Opcode operator()(const BatchRequest&) const { return Opcode::kBatch; }
  Opcode operator()(const RegisterRequest&) const { return Opcode::kRegister; }
};

Result<BatchRequest> ReadBatch(Reader& r) {
  BatchRequest b;
  std::size_t at = r.offset();
  FICUS_CQL_TRY(std::uint8_t type, r.Byte("batch type"));
  if (type > 2)
    return tl::unexpected(r.Invalid(at, "batch type", fmt::format("unknown type {}", type)));
  b.type = static_cast<BatchType>(type);
  FICUS_CQL_TRY(std::uint16_t n, r.Short("statement count"));
  for (std::uint16_t i = 0; i < n; ++i) {
    BatchStatement s;
    std::size_t kind_at = r.offset();
    FICUS_CQL_TRY(std::uint8_t kind, r.Byte(fmt::format("statement {} kind", i)));
    if (kind > 1) {
      return tl::unexpected(r.Invalid(kind_at, fmt::format("statement {} kind", i),
                                      fmt::format("must be 0 or 1, got {}", kind)));
    }
    s.prepared = kind == 1;
    if (s.prepared) {
      FICUS_CQL_TRY(s.id, r.ShortBytes(fmt::format("statement {} id", i)));
    } else {
      FICUS_CQL_TRY(s.query, r.LongString(fmt::format("statement {} query", i)));
    }
    FICUS_CQL_TRY(std::uint16_t nv, r.Short(fmt::format("statement {} value count", i)));
    for (std::uint16_t j = 0; j < nv; ++j) {
      FICUS_CQL_TRY(Value v, r.ValueField(fmt::format("statement {} value {}", i, j)));
      s.values.push_back(std::move(v));
    }
    b.statements.push_back(std::move(s));
  }
  FICUS_CQL_TRY(b.consistency, r.ConsistencyField("consistency"));
  std::size_t flags_at = r.offset();
  FICUS_CQL_TRY(std::uint8_t flags, r.Byte("batch flags"));
  if (flags & ~(kQSerialConsistency | kQTimestamp)) {
    return tl::unexpected(
        r.Invalid(flags_at, "batch flags", fmt::format("unsupported flags 0x{:02x}", flags)));
  }
  if (flags & kQSerialConsistency) {
    FICUS_CQL_TRY(Consistency c, r.ConsistencyField("serial consistency"));
    b.serial_consistency = c;
  }
  if (flags & kQTimestamp) {
    FICUS_CQL_TRY(std::int64_t ts, r.Long("timestamp"));
    b.timestamp = ts;
  }
  return b;
}

// ---- response helpers ----

Result<ColumnType> ReadColumnType(Reader& r, int depth) {
  std::size_t at = r.offset();
  if (depth > 16) return tl::unexpected(r.Invalid(at, "column type", "nested too deep"));
  ColumnType t;
  FICUS_CQL_TRY(t.id, r.Short("column type id"));
  switch (t.id) {
    case type_id::kCustom: {
      FICUS_CQL_TRY(t.custom_class, r.String("custom type class"));
      break;
    }
    case type_id::kList:
    case type_id::kSet: {
      FICUS_CQL_TRY(ColumnType e, ReadColumnType(r, depth + 1));
      t.params.push_back(std::move(e));
      break;
    }
    case type_id::kMap: {
      FICUS_CQL_TRY(ColumnType k, ReadColumnType(r, depth + 1));
      FICUS_CQL_TRY(ColumnType v, ReadColumnType(r, depth + 1));
      t.params.push_back(std::move(k));
      t.params.push_back(std::move(v));
      break;
    }
    case type_id::kUdt: {
      FICUS_CQL_TRY(t.udt_keyspace, r.String("udt keyspace"));
      FICUS_CQL_TRY(t.udt_name, r.String("udt name"));
      FICUS_CQL_TRY(std::uint16_t n, r.Short("udt field count"));
      for (std::uint16_t i = 0; i < n; ++i) {
        FICUS_CQL_TRY(std::string name, r.String("udt field name"));
        FICUS_CQL_TRY(ColumnType ft, ReadColumnType(r, depth + 1));
        t.udt_fields.push_back(std::move(name));
        t.params.push_back(std::move(ft));
      }
      break;
    }
    case type_id::kTuple: {
      FICUS_CQL_TRY(std::uint16_t n, r.Short("tuple arity"));
      for (std::uint16_t i = 0; i < n; ++i) {
        FICUS_CQL_TRY(ColumnType e, ReadColumnType(r, depth + 1));
        t.params.push_back(std::move(e));
      }
      break;
    }
    default:
      if (t.id > 0x0014) {
        return tl::unexpected(
            r.Invalid(at, "column type", fmt::format("unknown type id 0x{:04x}", t.id)));
      }
  }
  return t;
}

// Column specs shared by rows metadata and prepared bind metadata.
Result<std::vector<ColumnSpec>> ReadColumnSpecs(Reader& r, std::int32_t flags, std::int32_t count) {
  std::vector<ColumnSpec> cols;
  std::string g_ks, g_table;
  if (flags & kMetaGlobalTableSpec) {
    FICUS_CQL_TRY(g_ks, r.String("global keyspace"));
    FICUS_CQL_TRY(g_table, r.String("global table"));
  }
  for (std::int32_t i = 0; i < count; ++i) {
    ColumnSpec c;
    if (flags & kMetaGlobalTableSpec) {
      c.keyspace = g_ks;
      c.table = g_table;
    } else {
      FICUS_CQL_TRY(c.keyspace, r.String(fmt::format("column {} keyspace", i)));
      FICUS_CQL_TRY(c.table, r.String(fmt::format("column {} table", i)));
    }
    FICUS_CQL_TRY(c.name, r.String(fmt::format("column {} name", i)));
    FICUS_CQL_TRY(c.type, ReadColumnType(r, 0));
    cols.push_back(std::move(c));
  }
  return cols;
}

Result<RowsMetadata> ReadRowsMetadata(Reader& r) {
  RowsMetadata m;
  FICUS_CQL_TRY(m.flags, r.Int("metadata flags"));
  std::size_t at = r.offset();
  FICUS_CQL_TRY(m.column_count, r.Int("column count"));
  if (m.column_count < 0) {
    return tl::unexpected(
        r.Invalid(at, "column count", fmt::format("negative {}", m.column_count)));
  }
  if (m.flags & kMetaHasMorePages) {
    FICUS_CQL_TRY(auto ps, r.BytesField("paging state"));
    m.paging_state = std::move(ps);
  }
  if (!(m.flags & kMetaNoMetadata)) {
    FICUS_CQL_TRY(m.columns, ReadColumnSpecs(r, m.flags, m.column_count));
  }
  return m;
}

// All columns share one table: use the global table spec when possible.
bool SingleTable(const std::vector<ColumnSpec>& cols) {
  for (const auto& c : cols) {
    if (c.keyspace != cols.front().keyspace || c.table != cols.front().table) return false;
  }
  return !cols.empty();
}

void WriteColumnSpecs(Writer& w, std::int32_t flags, const std::vector<ColumnSpec>& cols) {
  if (flags & kMetaGlobalTableSpec) {
    w.String(cols.empty() ? "" : cols.front().keyspace);
    w.String(cols.empty() ? "" : cols.front().table);
  }
  for (const auto& c : cols) {
    if (!(flags & kMetaGlobalTableSpec)) {
      w.String(c.keyspace);
      w.String(c.table);
    }
    w.String(c.name);
    WriteColumnType(w, c.type);
  }
}

Result<ResultBody> ReadResult(Reader& r) {
  std::size_t at = r.offset();
  FICUS_CQL_TRY(std::int32_t kind, r.Int("result kind"));
  switch (kind) {
    case kResultVoid:
      return ResultBody{VoidResult{}};
    case kResultRows: {
      RowsResult rows;
      FICUS_CQL_TRY(rows.metadata, ReadRowsMetadata(r));
      std::size_t count_at = r.offset();
      FICUS_CQL_TRY(std::int32_t n, r.Int("row count"));
      if (n < 0)
        return tl::unexpected(r.Invalid(count_at, "row count", fmt::format("negative {}", n)));
      // Each cell is at least 4 bytes: reject counts the body cannot hold
      // before allocating for them.
      auto cells =
          static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(rows.metadata.column_count);
      if (cells * 4 > r.remaining()) {
        return tl::unexpected(
            r.Invalid(count_at, "row count",
                      fmt::format("{} rows x {} columns need at least {} bytes, have {}", n,
                                  rows.metadata.column_count, cells * 4, r.remaining())));
      }
      rows.rows.reserve(static_cast<std::size_t>(n));
      for (std::int32_t i = 0; i < n; ++i) {
        Row row;
        row.reserve(static_cast<std::size_t>(rows.metadata.column_count));
        for (std::int32_t j = 0; j < rows.metadata.column_count; ++j) {
          FICUS_CQL_TRY(Cell c, r.BytesField(fmt::format("row {} column {}", i, j)));
          row.push_back(std::move(c));
        }
        rows.rows.push_back(std::move(row));
      }
      return ResultBody{std::move(rows)};
    }
    case kResultSetKeyspace: {
      SetKeyspaceResult s;
      FICUS_CQL_TRY(s.keyspace, r.String("keyspace"));
      return ResultBody{std::move(s)};
    }
    case kResultPrepared: {
      PreparedResult p;
      FICUS_CQL_TRY(p.id, r.ShortBytes("prepared id"));
      FICUS_CQL_TRY(p.flags, r.Int("prepared metadata flags"));
      std::size_t cc_at = r.offset();
      FICUS_CQL_TRY(std::int32_t columns, r.Int("bind column count"));
      if (columns < 0) {
        return tl::unexpected(
            r.Invalid(cc_at, "bind column count", fmt::format("negative {}", columns)));
      }
      std::size_t pk_at = r.offset();
      FICUS_CQL_TRY(std::int32_t pk_count, r.Int("pk count"));
      if (pk_count < 0) {
        return tl::unexpected(r.Invalid(pk_at, "pk count", fmt::format("negative {}", pk_count)));
      }
      for (std::int32_t i = 0; i < pk_count; ++i) {
        std::size_t idx_at = r.offset();
        FICUS_CQL_TRY(std::uint16_t idx, r.Short(fmt::format("pk index {}", i)));
        if (idx >= static_cast<std::uint32_t>(columns)) {
          return tl::unexpected(
              r.Invalid(idx_at, fmt::format("pk index {}", i),
                        fmt::format("{} is not below bind column count {}", idx, columns)));
        }
        p.pk_indexes.push_back(idx);
      }
      FICUS_CQL_TRY(p.bind_columns, ReadColumnSpecs(r, p.flags, columns));
      FICUS_CQL_TRY(p.result_metadata, ReadRowsMetadata(r));
      return ResultBody{std::move(p)};
    }
    case kResultSchemaChange: {
      SchemaChangeResult s;
      FICUS_CQL_TRY(s.change_type, r.String("change type"));
      FICUS_CQL_TRY(s.target, r.String("target"));
      FICUS_CQL_TRY(s.keyspace, r.String("keyspace"));
      if (s.target != "KEYSPACE") {
        FICUS_CQL_TRY(s.name, r.String("name"));
      }
      if (s.target == "FUNCTION" || s.target == "AGGREGATE") {
        FICUS_CQL_TRY(s.arg_types, r.StringList("argument types"));
      }
      return ResultBody{std::move(s)};
    }
    default:
      return tl::unexpected(r.Invalid(at, "result kind", fmt::format("unknown kind {}", kind)));
  }
}

Result<ErrorResponse> ReadError(Reader& r) {
  ErrorResponse e;
  FICUS_CQL_TRY(e.code, r.Int("error code"));
  FICUS_CQL_TRY(e.message, r.String("error message"));
  switch (static_cast<ErrorKind>(e.code)) {
    case ErrorKind::kUnavailable: {
      FICUS_CQL_TRY(e.consistency, r.ConsistencyField("consistency"));
      FICUS_CQL_TRY(e.required, r.Int("required"));
      FICUS_CQL_TRY(e.alive_or_received, r.Int("alive"));
      break;
    }
    case ErrorKind::kWriteTimeout: {
      FICUS_CQL_TRY(e.consistency, r.ConsistencyField("consistency"));
      FICUS_CQL_TRY(e.alive_or_received, r.Int("received"));
      FICUS_CQL_TRY(e.required, r.Int("blockfor"));
      FICUS_CQL_TRY(e.write_type, r.String("write type"));
      break;
    }
    case ErrorKind::kReadTimeout: {
      FICUS_CQL_TRY(e.consistency, r.ConsistencyField("consistency"));
      FICUS_CQL_TRY(e.alive_or_received, r.Int("received"));
      FICUS_CQL_TRY(e.required, r.Int("blockfor"));
      FICUS_CQL_TRY(std::uint8_t dp, r.Byte("data present"));
      e.data_present = dp != 0;
      break;
    }
    case ErrorKind::kReadFailure: {
      FICUS_CQL_TRY(e.consistency, r.ConsistencyField("consistency"));
      FICUS_CQL_TRY(e.alive_or_received, r.Int("received"));
      FICUS_CQL_TRY(e.required, r.Int("blockfor"));
      FICUS_CQL_TRY(e.num_failures, r.Int("failure count"));
      FICUS_CQL_TRY(std::uint8_t dp, r.Byte("data present"));
      e.data_present = dp != 0;
      break;
    }
    case ErrorKind::kWriteFailure: {
      FICUS_CQL_TRY(e.consistency, r.ConsistencyField("consistency"));
      FICUS_CQL_TRY(e.alive_or_received, r.Int("received"));
      FICUS_CQL_TRY(e.required, r.Int("blockfor"));
      FICUS_CQL_TRY(e.num_failures, r.Int("failure count"));
      FICUS_CQL_TRY(e.write_type, r.String("write type"));
      break;
    }
    case ErrorKind::kFunctionFailure: {
      FICUS_CQL_TRY(e.keyspace, r.String("function keyspace"));
      FICUS_CQL_TRY(e.table, r.String("function name"));
      FICUS_CQL_TRY(e.arg_types, r.StringList("function argument types"));
      break;
    }
    case ErrorKind::kAlreadyExists: {
      FICUS_CQL_TRY(e.keyspace, r.String("keyspace"));
      FICUS_CQL_TRY(e.table, r.String("table"));
      break;
    }
    case ErrorKind::kUnprepared: {
      FICUS_CQL_TRY(e.unprepared_id, r.ShortBytes("unprepared id"));
      break;
    }
    default:
      break;
  }
  return e;
}

void WriteError(Writer& w, const ErrorResponse& e) {
  w.Int(e.code);
  w.String(e.message);
  switch (static_cast<ErrorKind>(e.code)) {
    case ErrorKind::kUnavailable:
      w.ConsistencyField(e.consistency);
      w.Int(e.required);
      w.Int(e.alive_or_received);
      break;
    case ErrorKind::kWriteTimeout:
      w.ConsistencyField(e.consistency);
      w.Int(e.alive_or_received);
      w.Int(e.required);
      w.String(e.write_type);
      break;
    case ErrorKind::kReadTimeout:
      w.ConsistencyField(e.consistency);
      w.Int(e.alive_or_received);
      w.Int(e.required);
      w.Byte(e.data_present ? 1 : 0);
      break;
    case ErrorKind::kReadFailure:
      w.ConsistencyField(e.consistency);
      w.Int(e.alive_or_received);
      w.Int(e.required);
      w.Int(e.num_failures);
      w.Byte(e.data_present ? 1 : 0);
      break;
    case ErrorKind::kWriteFailure:
      w.ConsistencyField(e.consistency);
      w.Int(e.alive_or_received);
      w.Int(e.required);
      w.Int(e.num_failures);
      w.String(e.write_type);
      break;
    case ErrorKind::kFunctionFailure:
      w.String(e.keyspace);
      w.String(e.table);
      w.StringList(e.arg_types);
      break;
    case ErrorKind::kAlreadyExists:
      w.String(e.keyspace);
      w.String(e.table);
      break;
    case ErrorKind::kUnprepared:
      w.ShortBytes(e.unprepared_id);
      break;
    default:
      break;
  }
}

struct ResponseBodyWriter {
  Writer& w;
  void operator()(const ErrorResponse& e) const { WriteError(w, e); }
  void operator()(const ReadyResponse&) const {}
  void operator()(const AuthenticateResponse& a) const { w.String(a.authenticator); }
  void operator()(const SupportedResponse& s) const { w.StringMultimapField(s.options); }
  void operator()(const AuthChallengeResponse& a) const { w.OptBytes(a.token); }
  void operator()(const AuthSuccessResponse& a) const { w.OptBytes(a.token); }
  void operator()(const EventResponse& e) const { w.String(e.type); }
  void operator()(const ResultBody& r) const {
    std::visit([this](const auto& x) { Write(x); }, r);
  }
  void Write(const VoidResult&) const { w.Int(kResultVoid); }
  void Write(const RowsResult& rows) const {
    w.Int(kResultRows);
    WriteRowsMetadata(w, rows.metadata);
    w.Int(static_cast<std::int32_t>(rows.rows.size()));
    for (const auto& row : rows.rows) {
      for (const auto& cell : row) w.OptBytes(cell);
    }
  }
  void Write(const SetKeyspaceResult& s) const {
    w.Int(kResultSetKeyspace);
    w.String(s.keyspace);
  }
  void Write(const PreparedResult& p) const {
    w.Int(kResultPrepared);
    w.ShortBytes(p.id);
    w.Int(p.flags);
    w.Int(static_cast<std::int32_t>(p.bind_columns.size()));
    w.Int(static_cast<std::int32_t>(p.pk_indexes.size()));
    for (auto i : p.pk_indexes) w.Short(i);
    WriteColumnSpecs(w, p.flags, p.bind_columns);
    WriteRowsMetadata(w, p.result_metadata);
  }
  void Write(const SchemaChangeResult& s) const {
    w.Int(kResultSchemaChange);
    w.String(s.change_type);
    w.String(s.target);
    w.String(s.keyspace);
    if (s.target != "KEYSPACE") w.String(s.name);
    if (s.target == "FUNCTION" || s.target == "AGGREGATE") w.StringList(s.arg_types);
  }
};

struct ResponseOpcodeOf {
  Opcode operator()(const ErrorResponse&) const { return Opcode::kError; }
  Opcode operator()(const ReadyResponse&) const { return Opcode::kReady; }
  Opcode operator()(const AuthenticateResponse&) const { return Opcode::kAuthenticate; }
  Opcode operator()(const SupportedResponse&) const { return Opcode::kSupported; }
  Opcode operator()(const ResultBody&) const { return Opcode::kResult; }
  Opcode operator()(const AuthChallengeResponse&) const { return Opcode::kAuthChallenge; }
  Opcode operator()(const AuthSuccessResponse&) const { return Opcode::kAuthSuccess; }
  Opcode operator()(const EventResponse&) const { return Opcode::kEvent; }
};

bool KnownOpcode(std::uint8_t op) {
  return op <= 0x10 && op != 0x04;
}

}  // namespace

std::string_view OpcodeName(Opcode op) {
  switch (op) {
    case Opcode::kError:
      return "ERROR";
    case Opcode::kStartup:
      return "STARTUP";
    case Opcode::kReady:
      return "READY";
    case Opcode::kAuthenticate:
      return "AUTHENTICATE";
    case Opcode::kOptions:
      return "OPTIONS";
    case Opcode::kSupported:
      return "SUPPORTED";
    case Opcode::kQuery:
      return "QUERY";
    case Opcode::kResult:
      return "RESULT";
    case Opcode::kPrepare:
      return "PREPARE";
    case Opcode::kExecute:
      return "EXECUTE";
    case Opcode::kRegister:
      return "REGISTER";
    case Opcode::kEvent:
      return "EVENT";
    case Opcode::kBatch:
      return "BATCH";
    case Opcode::kAuthChallenge:
      return "AUTH_CHALLENGE";
    case Opcode::kAuthResponse:
      return "AUTH_RESPONSE";
    case Opcode::kAuthSuccess:
      return "AUTH_SUCCESS";
  }
  return "UNKNOWN";
}

Result<FrameHeader> DecodeHeader(ByteView bytes, std::uint8_t expected_version,
                                 std::uint32_t max_body) {
  Reader r(bytes, "frame header");
  FrameHeader h;
  FICUS_CQL_TRY(h.version, r.Byte("version"));
  if (h.version != expected_version) {
    return tl::unexpected(r.Invalid(
        0, "version", fmt::format("got 0x{:02x}, want 0x{:02x}", h.version, expected_version)));
  }
  FICUS_CQL_TRY(h.flags, r.Byte("flags"));
  if (h.flags & kFlagCompression) {
    return tl::unexpected(
        r.Invalid(1, "flags", "compressed frame but no compression was negotiated"));
  }
  FICUS_CQL_TRY(std::uint16_t stream, r.Short("stream"));
  h.stream = static_cast<std::int16_t>(stream);
  FICUS_CQL_TRY(std::uint8_t op, r.Byte("opcode"));
  if (!KnownOpcode(op))
    return tl::unexpected(r.Invalid(4, "opcode", fmt::format("unknown opcode 0x{:02x}", op)));
  h.opcode = static_cast<Opcode>(op);
  FICUS_CQL_TRY(std::int32_t len, r.Int("length"));
  if (len < 0 || static_cast<std::uint32_t>(len) > max_body) {
    return tl::unexpected(
        r.Invalid(5, "length", fmt::format("body length {} outside 0..{}", len, max_body)));
  }
  h.length = static_cast<std::uint32_t>(len);
  return h;
}

Bytes PlainAuthToken(std::string_view user, std::string_view password) {
  Bytes out;
  out.push_back(0);
  out.insert(out.end(), user.begin(), user.end());
  out.push_back(0);
  out.insert(out.end(), password.begin(), password.end());
  return out;
}

Opcode RequestOpcode(const Request& r) {
  return std::visit(RequestOpcodeOf{}, r);
}

Bytes EncodeRequest(const Request& r, std::int16_t stream) {
  assert(stream >= 0);
  Writer w = StartFrame(kRequestVersion, 0, stream, RequestOpcode(r));
  std::visit(RequestBodyWriter{w}, r);
  return FinishFrame(std::move(w));
}

Result<Request> DecodeRequest(Opcode op, ByteView body) {
  Reader r(body, fmt::format("{} body", OpcodeName(op)));
  Request out;
  switch (op) {
    case Opcode::kStartup: {
      FICUS_CQL_TRY(StringMap m, r.StringMapField("options"));
      out = StartupRequest{std::move(m)};
      break;
    }
    case Opcode::kOptions:
      out = OptionsRequest{};
      break;
    case Opcode::kAuthResponse: {
      FICUS_CQL_TRY(auto token, r.BytesField("token"));
      out = AuthResponseRequest{std::move(token)};
      break;
    }
    case Opcode::kQuery: {
      QueryRequest q;
      FICUS_CQL_TRY(q.query, r.LongString("query"));
      FICUS_CQL_TRY(q.params, ReadQueryParameters(r));
      out = std::move(q);
      break;
    }
    case Opcode::kPrepare: {
      FICUS_CQL_TRY(std::string q, r.LongString("query"));
      out = PrepareRequest{std::move(q)};
      break;
    }
    case Opcode::kExecute: {
      ExecuteRequest e;
      FICUS_CQL_TRY(e.id, r.ShortBytes("prepared id"));
      FICUS_CQL_TRY(e.params, ReadQueryParameters(r));
      out = std::move(e);
      break;
    }
    case Opcode::kBatch: {
      FICUS_CQL_TRY(BatchRequest b, ReadBatch(r));
      out = std::move(b);
      break;
    }
    case Opcode::kRegister: {
      FICUS_CQL_TRY(auto events, r.StringList("events"));
      out = RegisterRequest{std::move(events)};
      break;
    }
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("cql: opcode {} is not a request", OpcodeName(op)));
  }
  if (!r.AtEnd()) return tl::unexpected(TrailingBytes(r));
  return out;
}

Result<ResponseFrame> DecodeResponse(const FrameHeader& header, ByteView body) {
  if (body.size() != header.length) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("cql: {} body is {} bytes but the header says {}",
                                 OpcodeName(header.opcode), body.size(), header.length));
  }
  Reader r(body, fmt::format("{} body", OpcodeName(header.opcode)));
  ResponseFrame f;
  f.header = header;
  if (header.flags & kFlagTracing) {
    FICUS_CQL_TRY(Uuid id, r.UuidField("tracing id"));
    f.tracing_id = id;
  }
  if (header.flags & kFlagWarning) {
    FICUS_CQL_TRY(f.warnings, r.StringList("warnings"));
  }
  if (header.flags & kFlagCustomPayload) {
    FICUS_CQL_TRY(f.custom_payload, r.BytesMapField("custom payload"));
  }
  switch (header.opcode) {
    case Opcode::kError: {
      FICUS_CQL_TRY(ErrorResponse e, ReadError(r));
      f.body = std::move(e);
      break;
    }
    case Opcode::kReady:
      f.body = ReadyResponse{};
      break;
    case Opcode::kAuthenticate: {
      FICUS_CQL_TRY(std::string a, r.String("authenticator"));
      f.body = AuthenticateResponse{std::move(a)};
      break;
    }
    case Opcode::kSupported: {
      FICUS_CQL_TRY(StringMultimap m, r.StringMultimapField("options"));
      f.body = SupportedResponse{std::move(m)};
      break;
    }
    case Opcode::kResult: {
      FICUS_CQL_TRY(ResultBody rb, ReadResult(r));
      f.body = std::move(rb);
      break;
    }
    case Opcode::kAuthChallenge: {
      FICUS_CQL_TRY(auto token, r.BytesField("token"));
      f.body = AuthChallengeResponse{std::move(token)};
      break;
    }
    case Opcode::kAuthSuccess: {
      FICUS_CQL_TRY(auto token, r.BytesField("token"));
      f.body = AuthSuccessResponse{std::move(token)};
      break;
    }
    case Opcode::kEvent: {
      FICUS_CQL_TRY(std::string type, r.String("event type"));
      f.body = EventResponse{std::move(type)};
      return f;  // the rest of an event is not interpreted
    }
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("cql: opcode {} is not a response", OpcodeName(header.opcode)));
  }
  // The spec allows servers to append information clients should discard
  // (section 4.2), so trailing bytes are not an error here.
  return f;
}

Opcode ResponseOpcode(const Response& r) {
  return std::visit(ResponseOpcodeOf{}, r);
}

Bytes EncodeResponse(const Response& r, std::int16_t stream,
                     const std::vector<std::string>& warnings) {
  std::uint8_t flags = warnings.empty() ? 0 : kFlagWarning;
  Writer w = StartFrame(kResponseVersion, flags, stream, ResponseOpcode(r));
  if (!warnings.empty()) w.StringList(warnings);
  std::visit(ResponseBodyWriter{w}, r);
  return FinishFrame(std::move(w));
}

void WriteColumnType(Writer& w, const ColumnType& t) {
  w.Short(t.id);
  switch (t.id) {
    case type_id::kCustom:
      w.String(t.custom_class);
      break;
    case type_id::kList:
    case type_id::kSet:
    case type_id::kMap:
      for (const auto& p : t.params) WriteColumnType(w, p);
      break;
    case type_id::kUdt:
      w.String(t.udt_keyspace);
      w.String(t.udt_name);
      w.Short(static_cast<std::uint16_t>(t.params.size()));
      for (std::size_t i = 0; i < t.params.size(); ++i) {
        w.String(t.udt_fields[i]);
        WriteColumnType(w, t.params[i]);
      }
      break;
    case type_id::kTuple:
      w.Short(static_cast<std::uint16_t>(t.params.size()));
      for (const auto& p : t.params) WriteColumnType(w, p);
      break;
    default:
      break;
  }
}

void WriteRowsMetadata(Writer& w, const RowsMetadata& m) {
  std::int32_t flags = m.flags & ~(kMetaHasMorePages | kMetaGlobalTableSpec);
  if (m.paging_state) flags |= kMetaHasMorePages;
  if (!(flags & kMetaNoMetadata) && SingleTable(m.columns)) flags |= kMetaGlobalTableSpec;
  w.Int(flags);
  w.Int(m.column_count);
  if (m.paging_state) w.BytesValue(*m.paging_state);
  if (!(flags & kMetaNoMetadata)) WriteColumnSpecs(w, flags, m.columns);
}

int RowsResult::ColumnIndex(std::string_view name) const {
  for (std::size_t i = 0; i < metadata.columns.size(); ++i) {
    if (metadata.columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string ColumnTypeName(const ColumnType& t) {
  switch (t.id) {
    case type_id::kCustom:
      return "'" + t.custom_class + "'";
    case type_id::kAscii:
      return "ascii";
    case type_id::kBigint:
      return "bigint";
    case type_id::kBlob:
      return "blob";
    case type_id::kBoolean:
      return "boolean";
    case type_id::kInt:
      return "int";
    case type_id::kTimestamp:
      return "timestamp";
    case type_id::kUuid:
      return "uuid";
    case type_id::kVarchar:
      return "varchar";
    case type_id::kTimeuuid:
      return "timeuuid";
    case type_id::kInet:
      return "inet";
    case type_id::kList:
      return "list<" + ColumnTypeName(t.params.at(0)) + ">";
    case type_id::kSet:
      return "set<" + ColumnTypeName(t.params.at(0)) + ">";
    case type_id::kMap:
      return "map<" + ColumnTypeName(t.params.at(0)) + ", " + ColumnTypeName(t.params.at(1)) + ">";
    default:
      return fmt::format("type(0x{:04x})", t.id);
  }
}

std::string_view ErrorKindName(std::int32_t code) {
  switch (static_cast<ErrorKind>(code)) {
    case ErrorKind::kServerError:
      return "Server_error";
    case ErrorKind::kProtocolError:
      return "Protocol_error";
    case ErrorKind::kAuthenticationError:
      return "Authentication_error";
    case ErrorKind::kUnavailable:
      return "Unavailable";
    case ErrorKind::kOverloaded:
      return "Overloaded";
    case ErrorKind::kIsBootstrapping:
      return "Is_bootstrapping";
    case ErrorKind::kTruncateError:
      return "Truncate_error";
    case ErrorKind::kWriteTimeout:
      return "Write_timeout";
    case ErrorKind::kReadTimeout:
      return "Read_timeout";
    case ErrorKind::kReadFailure:
      return "Read_failure";
    case ErrorKind::kFunctionFailure:
      return "Function_failure";
    case ErrorKind::kWriteFailure:
      return "Write_failure";
    case ErrorKind::kSyntaxError:
      return "Syntax_error";
    case ErrorKind::kUnauthorized:
      return "Unauthorized";
    case ErrorKind::kInvalid:
      return "Invalid";
    case ErrorKind::kConfigError:
      return "Config_error";
    case ErrorKind::kAlreadyExists:
      return "Already_exists";
    case ErrorKind::kUnprepared:
      return "Unprepared";
  }
  return "Unknown_error";
}

Error ToError(const ErrorResponse& e) {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
  switch (static_cast<ErrorKind>(e.code)) {
    case ErrorKind::kServerError:
    case ErrorKind::kProtocolError:
    case ErrorKind::kTruncateError:
      code = ErrorCode::kInternal;
      break;
    case ErrorKind::kAuthenticationError:
    case ErrorKind::kUnauthorized:
      code = ErrorCode::kPreconditionFailed;
      break;
    case ErrorKind::kUnavailable:
      code = ErrorCode::kUnavailable;
      detail = fmt::format(" [cl={} required={} alive={}]", ConsistencyName(e.consistency),
                           e.required, e.alive_or_received);
      break;
    case ErrorKind::kOverloaded:
    case ErrorKind::kIsBootstrapping:
      code = ErrorCode::kUnavailable;
      break;
    case ErrorKind::kWriteTimeout:
      code = ErrorCode::kTimeout;
      detail =
          fmt::format(" [cl={} received={} blockfor={} type={}]", ConsistencyName(e.consistency),
                      e.alive_or_received, e.required, e.write_type);
      break;
    case ErrorKind::kReadTimeout:
      code = ErrorCode::kTimeout;
      detail = fmt::format(" [cl={} received={} blockfor={} data_present={}]",
                           ConsistencyName(e.consistency), e.alive_or_received, e.required,
                           e.data_present);
      break;
    case ErrorKind::kReadFailure:
    case ErrorKind::kWriteFailure:
      code = ErrorCode::kUnavailable;
      detail = fmt::format(" [cl={} received={} blockfor={} failures={}{}]",
                           ConsistencyName(e.consistency), e.alive_or_received, e.required,
                           e.num_failures, e.write_type.empty() ? "" : " type=" + e.write_type);
      break;
    case ErrorKind::kFunctionFailure:
      code = ErrorCode::kInvalidArgument;
      detail = fmt::format(" [function={}.{}]", e.keyspace, e.table);
      break;
    case ErrorKind::kSyntaxError:
    case ErrorKind::kInvalid:
    case ErrorKind::kConfigError:
      code = ErrorCode::kInvalidArgument;
      break;
    case ErrorKind::kAlreadyExists:
      code = ErrorCode::kConflict;
      detail = fmt::format(" [keyspace={} table={}]", e.keyspace, e.table);
      break;
    case ErrorKind::kUnprepared: {
      code = ErrorCode::kNotFound;
      std::string hex;
      for (auto b : e.unprepared_id) hex += fmt::format("{:02x}", b);
      detail = fmt::format(" [id={}]", hex);
      break;
    }
  }
  return Error(code, fmt::format("cql {} (0x{:04x}): {}{}", ErrorKindName(e.code), e.code,
                                 e.message, detail));
}

}  // namespace ficus::cql
