// Request bodies: STARTUP, OPTIONS, AUTH_RESPONSE, QUERY, PREPARE, EXECUTE,
// BATCH, REGISTER (encode for the client, decode for the scripted peer).
#include <fmt/format.h>

#include <cassert>

#include "ficus/cql/frame.h"
#include "frame_internal.h"

namespace ficus::cql {

using detail::FinishFrame;
using detail::kQNamesForValues;
using detail::kQPageSize;
using detail::kQPagingState;
using detail::kQSerialConsistency;
using detail::kQSkipMetadata;
using detail::kQTimestamp;
using detail::kQValues;
using detail::StartFrame;
using detail::TrailingBytes;

namespace {

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

}  // namespace

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

}  // namespace ficus::cql
