// CQL native protocol v4 frames: header, request and response messages, and
// their encoders/decoders (native_protocol_v4.spec sections 2, 4, 9).
// No I/O: a session feeds bytes in and takes bytes out.
//
// Both directions are implemented for every message Ficus uses, so the same
// codec serves the client (encode requests, decode responses) and the
// scripted test peer (decode requests, encode responses).
//
// Errors: every decoder returns InvalidArgument with the precise message of
// Reader (what, offset, bytes needed). A decoded ERROR frame is data
// (ErrorResponse), not a failure; ToError() maps it to a ficus::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ficus/cql/wire.h"
#include "ficus/result.h"

namespace ficus::cql {

inline constexpr std::uint8_t kRequestVersion = 0x04;
inline constexpr std::uint8_t kResponseVersion = 0x84;
inline constexpr std::size_t kHeaderSize = 9;
// The spec caps frames at 256 MB; a header announcing more is rejected.
inline constexpr std::uint32_t kMaxBodySize = 256u * 1024 * 1024;

enum class Opcode : std::uint8_t {
  kError = 0x00,
  kStartup = 0x01,
  kReady = 0x02,
  kAuthenticate = 0x03,
  kOptions = 0x05,
  kSupported = 0x06,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kRegister = 0x0B,
  kEvent = 0x0C,
  kBatch = 0x0D,
  kAuthChallenge = 0x0E,
  kAuthResponse = 0x0F,
  kAuthSuccess = 0x10,
};
std::string_view OpcodeName(Opcode op);

// Header flags (section 2.2).
inline constexpr std::uint8_t kFlagCompression = 0x01;
inline constexpr std::uint8_t kFlagTracing = 0x02;
inline constexpr std::uint8_t kFlagCustomPayload = 0x04;
inline constexpr std::uint8_t kFlagWarning = 0x08;

struct FrameHeader {
  std::uint8_t version = kRequestVersion;
  std::uint8_t flags = 0;
  std::int16_t stream = 0;
  Opcode opcode = Opcode::kOptions;
  std::uint32_t length = 0;
};

// Decodes the 9-byte header. Fails on short input, a version other than
// `expected_version`, an unknown opcode, the compression flag (never
// negotiated), or a length over `max_body`.
Result<FrameHeader> DecodeHeader(ByteView bytes, std::uint8_t expected_version,
                                 std::uint32_t max_body = kMaxBodySize);

// ---------------------------------------------------------------- requests

struct StartupRequest {
  StringMap options{{"CQL_VERSION", "3.0.0"}};
};
struct OptionsRequest {};
struct AuthResponseRequest {
  std::optional<Bytes> token;
};
// SASL PLAIN token of PasswordAuthenticator: "\0user\0password".
Bytes PlainAuthToken(std::string_view user, std::string_view password);

// <query_parameters> of QUERY and EXECUTE (section 4.1.4); names for values
// (0x40) are not supported.
struct QueryParameters {
  Consistency consistency = Consistency::kLocalQuorum;
  std::optional<std::vector<Value>> values;       // flag 0x01 when present
  bool skip_metadata = false;                     // 0x02
  std::optional<std::int32_t> page_size;          // 0x04
  std::optional<Bytes> paging_state;              // 0x08
  std::optional<Consistency> serial_consistency;  // 0x10
  std::optional<std::int64_t> timestamp;          // 0x20, microseconds
  friend bool operator==(const QueryParameters&, const QueryParameters&) = default;
};
struct QueryRequest {
  std::string query;
  QueryParameters params;
};
struct PrepareRequest {
  std::string query;
};
struct ExecuteRequest {
  Bytes id;
  QueryParameters params;
};
enum class BatchType : std::uint8_t { kLogged = 0, kUnlogged = 1, kCounter = 2 };
struct BatchStatement {
  bool prepared = false;
  std::string query;  // when !prepared
  Bytes id;           // when prepared
  std::vector<Value> values;
};
struct BatchRequest {
  BatchType type = BatchType::kUnlogged;
  std::vector<BatchStatement> statements;
  Consistency consistency = Consistency::kLocalQuorum;
  std::optional<Consistency> serial_consistency;
  std::optional<std::int64_t> timestamp;
};
struct RegisterRequest {
  std::vector<std::string> events;
};

using Request = std::variant<StartupRequest, OptionsRequest, AuthResponseRequest, QueryRequest,
                             PrepareRequest, ExecuteRequest, BatchRequest, RegisterRequest>;

Opcode RequestOpcode(const Request& r);
// A whole frame (header + body) for `r` on `stream` (>= 0).
Bytes EncodeRequest(const Request& r, std::int16_t stream);
// Server side: the body of a request frame with this opcode.
Result<Request> DecodeRequest(Opcode op, ByteView body);

// --------------------------------------------------------------- responses

// Error codes (section 9).
enum class ErrorKind : std::int32_t {
  kServerError = 0x0000,
  kProtocolError = 0x000A,
  kAuthenticationError = 0x0100,
  kUnavailable = 0x1000,
  kOverloaded = 0x1001,
  kIsBootstrapping = 0x1002,
  kTruncateError = 0x1003,
  kWriteTimeout = 0x1100,
  kReadTimeout = 0x1200,
  kReadFailure = 0x1300,
  kFunctionFailure = 0x1400,
  kWriteFailure = 0x1500,
  kSyntaxError = 0x2000,
  kUnauthorized = 0x2100,
  kInvalid = 0x2200,
  kConfigError = 0x2300,
  kAlreadyExists = 0x2400,
  kUnprepared = 0x2500,
};
std::string_view ErrorKindName(std::int32_t code);

struct ErrorResponse {
  std::int32_t code = 0;
  std::string message;
  // Extra fields, filled per code (section 9); others stay default.
  Consistency consistency = Consistency::kAny;  // unavailable, timeouts, failures
  std::int32_t required = 0;                    // unavailable: required; others: blockfor
  std::int32_t alive_or_received = 0;           // unavailable: alive; others: received
  std::int32_t num_failures = 0;                // read/write failure
  bool data_present = false;                    // read timeout/failure
  std::string write_type;                       // write timeout/failure
  std::string keyspace, table;                  // already exists; function failure (table=function)
  std::vector<std::string> arg_types;           // function failure
  Bytes unprepared_id;                          // unprepared
  friend bool operator==(const ErrorResponse&, const ErrorResponse&) = default;
};
// Maps a server error to a ficus::Error keeping the server's message, e.g.
// "cql Write_timeout (0x1100): Operation timed out [cl=LOCAL_QUORUM received=1 blockfor=2
// type=SIMPLE]".
Error ToError(const ErrorResponse& e);

struct ReadyResponse {};
struct AuthenticateResponse {
  std::string authenticator;
};
struct AuthChallengeResponse {
  std::optional<Bytes> token;
};
struct AuthSuccessResponse {
  std::optional<Bytes> token;
};
struct SupportedResponse {
  StringMultimap options;
};

// [option] type of a column (section 4.2.5.2).
struct ColumnType {
  std::uint16_t id = 0x000D;
  std::string custom_class;        // id 0x0000
  std::vector<ColumnType> params;  // list/set: 1, map: 2, tuple/udt: n
  std::string udt_keyspace, udt_name;
  std::vector<std::string> udt_fields;
  friend bool operator==(const ColumnType&, const ColumnType&) = default;
};
namespace type_id {
inline constexpr std::uint16_t kCustom = 0x0000, kAscii = 0x0001, kBigint = 0x0002, kBlob = 0x0003,
                               kBoolean = 0x0004, kInt = 0x0009, kTimestamp = 0x000B,
                               kUuid = 0x000C, kVarchar = 0x000D, kTimeuuid = 0x000F,
                               kInet = 0x0010, kList = 0x0020, kMap = 0x0021, kSet = 0x0022,
                               kUdt = 0x0030, kTuple = 0x0031;
}
std::string ColumnTypeName(const ColumnType& t);  // "map<varchar, varchar>"

struct ColumnSpec {
  std::string keyspace, table, name;
  ColumnType type;
  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

inline constexpr std::int32_t kMetaGlobalTableSpec = 0x0001;
inline constexpr std::int32_t kMetaHasMorePages = 0x0002;
inline constexpr std::int32_t kMetaNoMetadata = 0x0004;

struct RowsMetadata {
  std::int32_t flags = 0;
  std::int32_t column_count = 0;
  std::optional<Bytes> paging_state;
  std::vector<ColumnSpec> columns;  // empty with kMetaNoMetadata
  friend bool operator==(const RowsMetadata&, const RowsMetadata&) = default;
};

using Cell = std::optional<Bytes>;  // null cell = nullopt
using Row = std::vector<Cell>;

struct RowsResult {
  RowsMetadata metadata;
  std::vector<Row> rows;
  // Index of a column by name, or -1.
  [[nodiscard]] int ColumnIndex(std::string_view name) const;
};
struct SetKeyspaceResult {
  std::string keyspace;
};
struct PreparedResult {
  Bytes id;
  std::int32_t flags = 0;
  std::vector<std::uint16_t> pk_indexes;
  std::vector<ColumnSpec> bind_columns;
  RowsMetadata result_metadata;
};
struct SchemaChangeResult {
  std::string change_type, target, keyspace, name;
  std::vector<std::string> arg_types;
};
struct VoidResult {};

using ResultBody =
    std::variant<VoidResult, RowsResult, SetKeyspaceResult, PreparedResult, SchemaChangeResult>;

struct EventResponse {
  std::string type;  // body after the type is not interpreted
};

using Response =
    std::variant<ErrorResponse, ReadyResponse, AuthenticateResponse, SupportedResponse, ResultBody,
                 AuthChallengeResponse, AuthSuccessResponse, EventResponse>;

struct ResponseFrame {
  FrameHeader header;
  std::optional<Uuid> tracing_id;
  std::vector<std::string> warnings;
  BytesMap custom_payload;
  Response body;
};

// Decodes a response body per the header's opcode and flags (tracing id,
// warnings, custom payload are consumed first, in spec order).
Result<ResponseFrame> DecodeResponse(const FrameHeader& header, ByteView body);
// Server side: a whole response frame. `warnings` sets the warning flag.
Bytes EncodeResponse(const Response& r, std::int16_t stream,
                     const std::vector<std::string>& warnings = {});
Opcode ResponseOpcode(const Response& r);

// Rows-metadata and column-type writers, shared with tests building frames.
void WriteColumnType(Writer& w, const ColumnType& t);
void WriteRowsMetadata(Writer& w, const RowsMetadata& m);

}  // namespace ficus::cql
