// Response bodies: ERROR, READY, AUTHENTICATE, SUPPORTED, RESULT (void,
// rows, set keyspace, prepared, schema change), AUTH_*, EVENT; column types
// and rows metadata (decode for the client, encode for the scripted peer).
#include <fmt/format.h>

#include "ficus/cql/frame.h"
#include "frame_internal.h"

namespace ficus::cql {

using detail::FinishFrame;
using detail::StartFrame;

namespace {

constexpr std::int32_t kResultVoid = 0x0001;
constexpr std::int32_t kResultRows = 0x0002;
constexpr std::int32_t kResultSetKeyspace = 0x0003;
constexpr std::int32_t kResultPrepared = 0x0004;
constexpr std::int32_t kResultSchemaChange = 0x0005;

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

}  // namespace

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

}  // namespace ficus::cql
