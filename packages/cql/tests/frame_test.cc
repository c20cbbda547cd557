// Frames built byte by byte from native_protocol_v4.spec, checked against
// the codec in both directions.
#include "ficus/cql/frame.h"

#include <gtest/gtest.h>

#include "ficus/cql/types.h"

namespace ficus::cql {
namespace {

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes Str(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(CqlFrame, OptionsIsAnEmptyBodyWithOpcode5) {
  EXPECT_EQ(EncodeRequest(OptionsRequest{}, 0), (Bytes{0x04, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0}));
}

TEST(CqlFrame, StartupCarriesAStringMap) {
  Bytes expected = Cat({{0x04, 0x00, 0x00, 0x01, 0x01, 0, 0, 0, 22},
                        {0x00, 0x01, 0x00, 0x0B},
                        Str("CQL_VERSION"),
                        {0x00, 0x05},
                        Str("3.0.0")});
  EXPECT_EQ(EncodeRequest(StartupRequest{}, 1), expected);
}

TEST(CqlFrame, AuthResponseIsSaslPlainToken) {
  Bytes token = PlainAuthToken("cassandra", "secret");
  EXPECT_EQ(token, Cat({{0}, Str("cassandra"), {0}, Str("secret")}));
  Bytes frame = EncodeRequest(AuthResponseRequest{token}, 2);
  Bytes expected = Cat({{0x04, 0, 0x00, 0x02, 0x0F, 0, 0, 0, 21}, {0, 0, 0, 17}, token});
  EXPECT_EQ(frame, expected);
}

TEST(CqlFrame, QueryWithValuesSerialConsistencyAndClientTimestamp) {
  QueryRequest q;
  q.query = "SELECT 1";
  q.params.consistency = Consistency::kLocalQuorum;
  q.params.values = std::vector<Value>{Value::Of(EncodeBigint(7)), Value::Null(), Value::Unset()};
  q.params.page_size = 100;
  q.params.paging_state = Bytes{0xAA};
  q.params.serial_consistency = Consistency::kLocalSerial;
  q.params.timestamp = 1795000000123456;
  Bytes body = Cat({{0, 0, 0, 8},
                    Str("SELECT 1"),
                    {0x00, 0x06},  // LOCAL_QUORUM
                    {0x01 | 0x04 | 0x08 | 0x10 | 0x20},
                    {0x00, 0x03},  // 3 values
                    {0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7},
                    {0xFF, 0xFF, 0xFF, 0xFF},  // null
                    {0xFF, 0xFF, 0xFF, 0xFE},  // not set
                    {0, 0, 0, 100},            // page size
                    {0, 0, 0, 1, 0xAA},        // paging state
                    {0x00, 0x09},              // LOCAL_SERIAL
                    EncodeBigint(1795000000123456)});
  Bytes header{0x04, 0, 0x00, 0x07, 0x07, 0, 0, 0, static_cast<std::uint8_t>(body.size())};
  EXPECT_EQ(EncodeRequest(q, 7), Cat({header, body}));

  auto decoded = DecodeRequest(Opcode::kQuery, body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& dq = std::get<QueryRequest>(*decoded);
  EXPECT_EQ(dq.query, "SELECT 1");
  EXPECT_EQ(dq.params, q.params);
}

TEST(CqlFrame, ExecuteUsesShortBytesIdAndTimestampFlag0x20) {
  ExecuteRequest e;
  e.id = Bytes{0xDE, 0xAD};
  e.params.consistency = Consistency::kOne;
  e.params.values = std::vector<Value>{Value::Of(Str("x"))};
  e.params.timestamp = 5;
  Bytes body = Cat({{0x00, 0x02, 0xDE, 0xAD},
                    {0x00, 0x01},
                    {0x21},
                    {0x00, 0x01},
                    {0, 0, 0, 1, 'x'},
                    EncodeBigint(5)});
  Bytes frame = EncodeRequest(e, 300);
  EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 9),
            (Bytes{0x04, 0, 0x01, 0x2C, 0x0A, 0, 0, 0, static_cast<std::uint8_t>(body.size())}));
  EXPECT_EQ(Bytes(frame.begin() + 9, frame.end()), body);
}

TEST(CqlFrame, UnloggedBatchOfPreparedAndPlainStatements) {
  BatchRequest b;
  b.statements.push_back({true, "", Bytes{0x01}, {Value::Of(Str("a"))}});
  b.statements.push_back({false, "DELETE", {}, {}});
  b.consistency = Consistency::kQuorum;
  b.timestamp = 9;
  Bytes body = Cat({{0x01},
                    {0x00, 0x02},
                    {0x01, 0x00, 0x01, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'a'},
                    {0x00, 0, 0, 0, 6},
                    Str("DELETE"),
                    {0x00, 0x00},
                    {0x00, 0x04},
                    {0x20},
                    EncodeBigint(9)});
  Bytes frame = EncodeRequest(b, 0);
  EXPECT_EQ(Bytes(frame.begin() + 9, frame.end()), body);
  auto decoded = DecodeRequest(Opcode::kBatch, body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& db = std::get<BatchRequest>(*decoded);
  EXPECT_EQ(db.type, BatchType::kUnlogged);
  ASSERT_EQ(db.statements.size(), 2u);
  EXPECT_EQ(db.statements[1].query, "DELETE");
  EXPECT_EQ(db.timestamp, 9);
}

TEST(CqlFrame, HeaderRejectsWrongVersionUnknownOpcodeAndHugeLength) {
  Bytes ok{0x84, 0, 0, 1, 0x02, 0, 0, 0, 0};
  auto h = DecodeHeader(ok, kResponseVersion);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->opcode, Opcode::kReady);
  EXPECT_EQ(h->stream, 1);

  Bytes v3{0x83, 0, 0, 1, 0x02, 0, 0, 0, 0};
  EXPECT_EQ(DecodeHeader(v3, kResponseVersion).error().message,
            "cql: bad frame header: version at offset 0: got 0x83, want 0x84");
  Bytes op4{0x84, 0, 0, 1, 0x04, 0, 0, 0, 0};
  EXPECT_NE(DecodeHeader(op4, kResponseVersion).error().message.find("unknown opcode 0x04"),
            std::string::npos);
  Bytes huge{0x84, 0, 0, 1, 0x08, 0x10, 0, 0, 1};
  EXPECT_NE(DecodeHeader(huge, kResponseVersion).error().message.find("outside 0..268435456"),
            std::string::npos);
  Bytes shortb{0x84, 0, 0};
  EXPECT_EQ(DecodeHeader(shortb, kResponseVersion).error().message,
            "cql: truncated frame header: stream at offset 2: need 2 bytes, have 1");
  Bytes event{0x84, 0, 0xFF, 0xFF, 0x0C, 0, 0, 0, 0};
  EXPECT_EQ(DecodeHeader(event, kResponseVersion)->stream, -1);
}

Result<ResponseFrame> DecodeFrame(const Bytes& frame) {
  auto h = DecodeHeader(ByteView(frame).first(9), kResponseVersion);
  if (!h) return tl::unexpected(h.error());
  return DecodeResponse(*h, ByteView(frame).subspan(9));
}

TEST(CqlFrame, DecodesRowsResultBuiltFromSpec) {
  Bytes body = Cat({{0, 0, 0, 2},  // kind Rows
                    {0, 0, 0, 1},  // flags: global table spec
                    {0, 0, 0, 2},  // 2 columns
                    {0, 2},
                    Str("ks"),
                    {0, 1},
                    Str("t"),
                    {0, 1},
                    Str("k"),
                    {0x00, 0x0D},  // varchar
                    {0, 1},
                    Str("m"),
                    {0x00, 0x21, 0x00, 0x0D, 0x00, 0x0D},  // map<varchar,varchar>
                    {0, 0, 0, 2},                          // 2 rows
                    {0, 0, 0, 1},
                    Str("a"),
                    {0, 0, 0, 14},
                    EncodeTextMap({{"p", "q"}}),
                    {0, 0, 0, 1},
                    Str("b"),
                    {0xFF, 0xFF, 0xFF, 0xFF}});
  Bytes header{0x84, 0, 0, 3, 0x08, 0, 0, 0, static_cast<std::uint8_t>(body.size())};
  auto f = DecodeFrame(Cat({header, body}));
  ASSERT_TRUE(f) << f.error().message;
  const auto& rows = std::get<RowsResult>(std::get<ResultBody>(f->body));
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.metadata.columns[1].keyspace, "ks");
  EXPECT_EQ(ColumnTypeName(rows.metadata.columns[1].type), "map<varchar, varchar>");
  EXPECT_EQ(rows.ColumnIndex("m"), 1);
  EXPECT_EQ(DecodeTextMap(*rows.rows[0][1])->at("p"), "q");
  EXPECT_FALSE(rows.rows[1][1].has_value());

  // Same frame re-encoded by the server-side encoder is byte-identical.
  EXPECT_EQ(EncodeResponse(ResultBody{rows}, 3), Cat({header, body}));

  // Cut anywhere inside: always a precise error, never a crash.
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    FrameHeader h{kResponseVersion, 0, 3, Opcode::kResult, static_cast<std::uint32_t>(cut)};
    auto r = DecodeResponse(h, ByteView(body).first(cut));
    ASSERT_FALSE(r) << "cut at " << cut;
    // Either a field runs past the end, or the row count cannot fit in what
    // is left (checked before reading rows).
    bool precise =
        r.error().message.rfind("cql: truncated RESULT body: ", 0) == 0 ||
        r.error().message.rfind("cql: bad RESULT body: row count at offset 33: ", 0) == 0;
    EXPECT_TRUE(precise) << r.error().message;
  }
}

TEST(CqlFrame, RowCountLargerThanBodyIsRejectedBeforeAllocating) {
  Bytes body = Cat({{0, 0, 0, 2}, {0, 0, 0, 4}, {0, 0, 0, 1}, {0x7F, 0xFF, 0xFF, 0xFF}});
  FrameHeader h{kResponseVersion, 0, 0, Opcode::kResult, static_cast<std::uint32_t>(body.size())};
  auto r = DecodeResponse(h, body);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("row count at offset 12"), std::string::npos)
      << r.error().message;
}

TEST(CqlFrame, DecodesPreparedWithPkIndexes) {
  PreparedResult p;
  p.id = Bytes{1, 2, 3};
  p.flags = kMetaGlobalTableSpec;
  p.pk_indexes = {1};
  p.bind_columns = {{"ks", "t", "a", {type_id::kVarchar}},
                    {"ks", "t", "user_id", {type_id::kUuid}}};
  p.result_metadata.flags = kMetaNoMetadata;
  Bytes frame = EncodeResponse(ResultBody{p}, 4);
  Bytes expected_body = Cat({{0, 0, 0, 4},
                             {0, 3, 1, 2, 3},
                             {0, 0, 0, 1},
                             {0, 0, 0, 2},
                             {0, 0, 0, 1},
                             {0, 1},
                             {0, 2},
                             Str("ks"),
                             {0, 1},
                             Str("t"),
                             {0, 1},
                             Str("a"),
                             {0, 0x0D},
                             {0, 7},
                             Str("user_id"),
                             {0, 0x0C},
                             {0, 0, 0, 4},
                             {0, 0, 0, 0}});
  EXPECT_EQ(Bytes(frame.begin() + 9, frame.end()), expected_body);
  auto f = DecodeFrame(frame);
  ASSERT_TRUE(f) << f.error().message;
  const auto& dp = std::get<PreparedResult>(std::get<ResultBody>(f->body));
  EXPECT_EQ(dp.id, p.id);
  EXPECT_EQ(dp.pk_indexes, p.pk_indexes);
  EXPECT_EQ(dp.bind_columns, p.bind_columns);
}

TEST(CqlFrame, PreparedPkIndexOutOfRangeIsRejected) {
  Bytes body = Cat({{0, 0, 0, 4}, {0, 1, 9}, {0, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 5}});
  FrameHeader h{kResponseVersion, 0, 0, Opcode::kResult, static_cast<std::uint32_t>(body.size())};
  auto r = DecodeResponse(h, body);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("5 is not below bind column count 1"), std::string::npos);
}

TEST(CqlFrame, ErrorsKeepServerMessageAndMapToCodes) {
  struct Case {
    ErrorResponse e;
    ErrorCode code;
    std::string message;
  };
  ErrorResponse unavailable{0x1000, "Cannot achieve consistency level LOCAL_QUORUM"};
  unavailable.consistency = Consistency::kLocalQuorum;
  unavailable.required = 2;
  unavailable.alive_or_received = 1;
  ErrorResponse wto{0x1100, "Operation timed out"};
  wto.consistency = Consistency::kLocalQuorum;
  wto.alive_or_received = 1;
  wto.required = 2;
  wto.write_type = "SIMPLE";
  ErrorResponse unprep{0x2500, "Prepared query with ID abcd not found"};
  unprep.unprepared_id = Bytes{0xAB, 0xCD};
  ErrorResponse exists{0x2400, "Keyspace ficus already exists"};
  exists.keyspace = "ficus";
  std::vector<Case> cases = {
      {unavailable, ErrorCode::kUnavailable,
       "cql Unavailable (0x1000): Cannot achieve consistency level LOCAL_QUORUM [cl=LOCAL_QUORUM "
       "required=2 alive=1]"},
      {wto, ErrorCode::kTimeout,
       "cql Write_timeout (0x1100): Operation timed out [cl=LOCAL_QUORUM received=1 blockfor=2 "
       "type=SIMPLE]"},
      {unprep, ErrorCode::kNotFound,
       "cql Unprepared (0x2500): Prepared query with ID abcd not found [id=abcd]"},
      {exists, ErrorCode::kConflict,
       "cql Already_exists (0x2400): Keyspace ficus already exists [keyspace=ficus table=]"},
      {{0x2000, "line 1:0 no viable alternative"},
       ErrorCode::kInvalidArgument,
       "cql Syntax_error (0x2000): line 1:0 no viable alternative"},
      {{0x1001, "overloaded"}, ErrorCode::kUnavailable, "cql Overloaded (0x1001): overloaded"},
      {{0x0100, "Bad credentials"},
       ErrorCode::kPreconditionFailed,
       "cql Authentication_error (0x0100): Bad credentials"},
      {{0x0000, "boom"}, ErrorCode::kInternal, "cql Server_error (0x0000): boom"},
  };
  for (const auto& c : cases) {
    Bytes frame = EncodeResponse(c.e, 9);
    auto f = DecodeFrame(frame);
    ASSERT_TRUE(f) << f.error().message;
    const auto& e = std::get<ErrorResponse>(f->body);
    EXPECT_EQ(e, c.e);
    Error err = ToError(e);
    EXPECT_EQ(err.code, c.code) << c.message;
    EXPECT_EQ(err.message, c.message);
  }
}

TEST(CqlFrame, WarningsAndTracingPrecedeTheBody) {
  Bytes body = Cat({Bytes(16, 0x11), {0, 1, 0, 2}, Str("w!"), {0, 0, 0, 1}});
  FrameHeader h{kResponseVersion, kFlagTracing | kFlagWarning, 0, Opcode::kResult,
                static_cast<std::uint32_t>(body.size())};
  auto f = DecodeResponse(h, body);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE(f->tracing_id);
  EXPECT_EQ(f->warnings, std::vector<std::string>{"w!"});
  EXPECT_TRUE(std::holds_alternative<VoidResult>(std::get<ResultBody>(f->body)));
}

TEST(CqlFrame, SupportedSetKeyspaceSchemaChangeAuthenticate) {
  SupportedResponse s{{{"CQL_VERSION", {"3.0.0"}}, {"SCYLLA_NR_SHARDS", {"4"}}}};
  auto f = DecodeFrame(EncodeResponse(s, 0));
  ASSERT_TRUE(f);
  EXPECT_EQ(std::get<SupportedResponse>(f->body).options, s.options);

  auto ks = DecodeFrame(EncodeResponse(ResultBody{SetKeyspaceResult{"ficus"}}, 0));
  EXPECT_EQ(std::get<SetKeyspaceResult>(std::get<ResultBody>(ks->body)).keyspace, "ficus");

  SchemaChangeResult sc{"CREATED", "TABLE", "ficus", "profiles", {}};
  Bytes frame = EncodeResponse(ResultBody{sc}, 0);
  EXPECT_EQ(Bytes(frame.begin() + 9, frame.end()), Cat({{0, 0, 0, 5},
                                                        {0, 7},
                                                        Str("CREATED"),
                                                        {0, 5},
                                                        Str("TABLE"),
                                                        {0, 5},
                                                        Str("ficus"),
                                                        {0, 8},
                                                        Str("profiles")}));
  auto auth = DecodeFrame(
      EncodeResponse(AuthenticateResponse{"org.apache.cassandra.auth.PasswordAuthenticator"}, 0));
  EXPECT_EQ(std::get<AuthenticateResponse>(auth->body).authenticator,
            "org.apache.cassandra.auth.PasswordAuthenticator");
}

TEST(CqlFrame, RequestDecoderRejectsTrailingBytesAndBadFlags) {
  Bytes opts{0x00};
  auto r = DecodeRequest(Opcode::kOptions, opts);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("1 unexpected trailing bytes"), std::string::npos);
  Bytes q = Cat({{0, 0, 0, 1}, Str("x"), {0, 1}, {0x40}});
  auto rq = DecodeRequest(Opcode::kQuery, q);
  ASSERT_FALSE(rq);
  EXPECT_NE(rq.error().message.find("names for values"), std::string::npos);
}

}  // namespace
}  // namespace ficus::cql
