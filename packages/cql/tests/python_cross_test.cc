// Cross-checks the codec against Debian's python3-cassandra driver, an
// independent implementation of the protocol, run as /usr/bin/python3
// tests/py/cql_oracle.py:
//  - requests: the driver encodes, we compare byte for byte with our encoder
//    and decode its bytes with our (server-side) request decoder;
//  - responses: we encode, the driver decodes, we compare what it saw;
//  - murmur3 tokens for thousands of keys.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ficus/cql/frame.h"
#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"

namespace ficus::cql {
namespace {

std::string Hex(ByteView b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (auto x : b) s += fmt::format("{:02x}", x);
  return s;
}

Bytes Unhex(std::string_view h) {
  Bytes b;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    b.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return b;
}

// Runs the oracle with one input line per element; returns its output lines.
std::vector<std::string> RunOracle(const std::string& command,
                                   const std::vector<std::string>& lines) {
  auto dir = std::filesystem::temp_directory_path();
  auto in_path = dir / fmt::format("cql_oracle_in_{}_{}.txt", ::getpid(), command);
  {
    std::ofstream in(in_path);
    for (const auto& l : lines) in << l << "\n";
  }
  std::string cmd =
      fmt::format("/usr/bin/python3 {} {} < {}", FICUS_CQL_ORACLE, command, in_path.string());
  FILE* p = ::popen(cmd.c_str(), "r");
  std::vector<std::string> out;
  if (p == nullptr) return out;
  std::string cur;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) cur.append(buf, n);
  int rc = ::pclose(p);
  std::filesystem::remove(in_path);
  EXPECT_EQ(rc, 0) << "oracle exited with " << rc;
  std::size_t start = 0;
  while (start < cur.size()) {
    auto end = cur.find('\n', start);
    if (end == std::string::npos) end = cur.size();
    out.push_back(cur.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JsonOpt(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : "null";
}
std::string JsonOptHex(const std::optional<Bytes>& v) {
  return v ? "\"" + Hex(*v) + "\"" : "null";
}
std::string JsonValue(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kSet:
      return "\"" + Hex(v.bytes) + "\"";
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kUnset:
      return "\"unset\"";
  }
  return "null";
}
std::string JsonValues(const std::vector<Value>& vs) {
  std::string s = "[";
  for (std::size_t i = 0; i < vs.size(); ++i) s += (i ? "," : "") + JsonValue(vs[i]);
  return s + "]";
}
std::string JsonParams(const QueryParameters& p) {
  return fmt::format(
      R"({{"consistency":{},"values":{},"page_size":{},"paging_state":{},"serial":{},"timestamp":{}}})",
      static_cast<int>(p.consistency), p.values ? JsonValues(*p.values) : "null",
      JsonOpt(p.page_size ? std::optional<std::int64_t>(*p.page_size) : std::nullopt),
      JsonOptHex(p.paging_state),
      p.serial_consistency ? std::to_string(static_cast<int>(*p.serial_consistency)) : "null",
      JsonOpt(p.timestamp));
}

// A request as the oracle's JSON spec (strings hex-encoded: no escaping).
std::string Spec(const Request& r, std::int16_t stream) {
  struct V {
    std::int16_t stream;
    std::string operator()(const StartupRequest& s) const {
      std::string opts = "[";
      for (const auto& [k, v] : s.options)
        opts += fmt::format(R"({}["{}","{}"])", opts.size() > 1 ? "," : "", k, v);
      return fmt::format(R"({{"op":"startup","stream":{},"options":{}]}})", stream, opts);
    }
    std::string operator()(const OptionsRequest&) const {
      return fmt::format(R"({{"op":"options","stream":{}}})", stream);
    }
    std::string operator()(const AuthResponseRequest& a) const {
      return fmt::format(R"({{"op":"auth_response","stream":{},"token":{}}})", stream,
                         JsonOptHex(a.token));
    }
    std::string operator()(const QueryRequest& q) const {
      return fmt::format(R"({{"op":"query","stream":{},"query":"{}","params":{}}})", stream,
                         Hex(AsBytes(q.query)), JsonParams(q.params));
    }
    std::string operator()(const PrepareRequest& p) const {
      return fmt::format(R"({{"op":"prepare","stream":{},"query":"{}"}})", stream,
                         Hex(AsBytes(p.query)));
    }
    std::string operator()(const ExecuteRequest& e) const {
      return fmt::format(R"({{"op":"execute","stream":{},"id":"{}","params":{}}})", stream,
                         Hex(e.id), JsonParams(e.params));
    }
    std::string operator()(const BatchRequest& b) const {
      std::string st = "[";
      for (std::size_t i = 0; i < b.statements.size(); ++i) {
        const auto& s = b.statements[i];
        st += fmt::format(R"({}{{"prepared":{},"query":"{}","id":"{}","values":{}}})", i ? "," : "",
                          s.prepared ? "true" : "false", Hex(AsBytes(s.query)), Hex(s.id),
                          JsonValues(s.values));
      }
      return fmt::format(
          R"({{"op":"batch","stream":{},"type":{},"statements":{}],"consistency":{},"serial":{},"timestamp":{}}})",
          stream, static_cast<int>(b.type), st, static_cast<int>(b.consistency),
          b.serial_consistency ? std::to_string(static_cast<int>(*b.serial_consistency)) : "null",
          JsonOpt(b.timestamp));
    }
    std::string operator()(const RegisterRequest& r) const {
      std::string ev = "[";
      for (std::size_t i = 0; i < r.events.size(); ++i)
        ev += fmt::format(R"({}"{}")", i ? "," : "", r.events[i]);
      return fmt::format(R"({{"op":"register","stream":{},"events":{}]}})", stream, ev);
    }
  };
  return std::visit(V{stream}, r);
}

class RandomRequests {
 public:
  explicit RandomRequests(std::uint64_t seed) : rng_(seed) {}

  Request Next() {
    switch (Pick(8)) {
      case 0: {
        StartupRequest s;
        if (Pick(2)) s.options["DRIVER_NAME"] = "ficus";
        if (Pick(2))
          s.options["SCYLLA_LWT_ADD_METADATA_MARK"] = "LWT_OPTIMIZATION_META_BIT_MASK=2147483648";
        return s;
      }
      case 1:
        return OptionsRequest{};
      case 2:
        return AuthResponseRequest{PlainAuthToken(Text(10), Text(20))};
      case 3:
        return QueryRequest{Text(200), Params()};
      case 4:
        return PrepareRequest{Text(300)};
      case 5:
        return ExecuteRequest{Blob(1 + Pick(32)), Params()};
      case 6: {
        BatchRequest b;
        b.type = static_cast<BatchType>(Pick(3));
        for (std::size_t i = 0, n = Pick(5); i < n; ++i) {
          BatchStatement s;
          s.prepared = Pick(2);
          if (s.prepared)
            s.id = Blob(16);
          else
            s.query = Text(80);
          s.values = Values();
          b.statements.push_back(std::move(s));
        }
        b.consistency = Cl();
        if (Pick(2))
          b.serial_consistency = Pick(2) ? Consistency::kSerial : Consistency::kLocalSerial;
        if (Pick(2)) b.timestamp = Ts();
        return b;
      }
      default:
        return RegisterRequest{{"STATUS_CHANGE", "TOPOLOGY_CHANGE"}};
    }
  }

 private:
  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  std::string Text(std::size_t max) {
    static const std::vector<std::string> kPieces = {"a",  "Z", "0",  " ", "'", "\"",
                                                     "\\", "é", "中", "😀", "?", ";"};
    std::string s;
    for (std::size_t i = 0, n = Pick(max); i < n; ++i) s += kPieces[Pick(kPieces.size())];
    return s;
  }
  Bytes Blob(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(Pick(256));
    return b;
  }
  Consistency Cl() { return static_cast<Consistency>(Pick(11)); }
  std::int64_t Ts() { return static_cast<std::int64_t>(rng_() >> 1); }
  std::vector<Value> Values() {
    std::vector<Value> vs;
    for (std::size_t i = 0, n = Pick(6); i < n; ++i) {
      switch (Pick(4)) {
        case 0:
          vs.push_back(Value::Null());
          break;
        case 1:
          vs.push_back(Value::Unset());
          break;
        default:
          vs.push_back(Value::Of(Blob(Pick(40))));
          break;
      }
    }
    return vs;
  }
  QueryParameters Params() {
    QueryParameters p;
    p.consistency = Cl();
    if (Pick(3)) p.values = Values();
    if (Pick(2)) p.page_size = static_cast<std::int32_t>(1 + Pick(5000));
    if (Pick(3) == 0) p.paging_state = Blob(1 + Pick(20));
    if (Pick(3) == 0)
      p.serial_consistency = Pick(2) ? Consistency::kSerial : Consistency::kLocalSerial;
    if (Pick(2)) p.timestamp = Ts();
    return p;
  }
  std::mt19937_64 rng_;
};

TEST(CqlPythonCross, DriverEncodedRequestsMatchOursByteForByteAndDecode) {
  RandomRequests gen(20261121);
  std::vector<Request> requests;
  std::vector<std::string> specs;
  for (int i = 0; i < 800; ++i) {
    requests.push_back(gen.Next());
    specs.push_back(Spec(requests.back(), static_cast<std::int16_t>(i * 37 % 32768)));
  }
  auto out = RunOracle("encode", specs);
  ASSERT_EQ(out.size(), requests.size());
  int checked = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ASSERT_EQ(out[i].rfind("ERROR", 0), std::string::npos) << specs[i] << "\n" << out[i];
    Bytes ours = EncodeRequest(requests[i], static_cast<std::int16_t>(i * 37 % 32768));
    ASSERT_EQ(Hex(ours), out[i]) << "request " << i << " " << specs[i];
    // python encodes -> we decode: header and body back to the same request.
    Bytes theirs = Unhex(out[i]);
    auto h = DecodeHeader(ByteView(theirs).first(kHeaderSize), kRequestVersion);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->opcode, RequestOpcode(requests[i]));
    auto decoded = DecodeRequest(h->opcode, ByteView(theirs).subspan(kHeaderSize));
    ASSERT_TRUE(decoded) << decoded.error().message << " in " << specs[i];
    EXPECT_EQ(Hex(EncodeRequest(*decoded, h->stream)), out[i]);
    ++checked;
  }
  EXPECT_EQ(checked, 800);
}

std::string DriverSees(const Response& r, std::int16_t stream = 1,
                       const std::vector<std::string>& warnings = {}) {
  auto out = RunOracle("decode", {Hex(EncodeResponse(r, stream, warnings))});
  return out.empty() ? "" : out[0];
}

ColumnSpec Col(std::string name, ColumnType t) {
  return {"ficus", "profiles", std::move(name), std::move(t)};
}

TEST(CqlPythonCross, DriverDecodesOurRowsWithEveryValueEncoding) {
  auto uuid = *Uuid::Parse("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11");
  auto tuuid = MakeTimeUuid(1795000000123456, 0x0101, 0x0203040506ULL);
  RowsResult rows;
  rows.metadata.column_count = 7;
  rows.metadata.columns = {
      Col("user_id", {type_id::kUuid}),
      Col("update_id", {type_id::kTimeuuid}),
      Col("last_updated_ts", {type_id::kTimestamp}),
      Col("updated_us", {type_id::kBigint}),
      Col("nickname", {type_id::kVarchar}),
      Col("attributes", {type_id::kMap, "", {{type_id::kVarchar}, {type_id::kVarchar}}}),
      Col("deleted", {type_id::kSet, "", {{type_id::kVarchar}}}),
  };
  rows.rows.push_back({EncodeUuid(uuid), EncodeUuid(tuuid), EncodeTimestamp(1795000000123),
                       EncodeBigint(-1795000000123456), EncodeText("中文 ok"),
                       EncodeTextMap({{"plan", "pro"}, {"locale", "zh-CN"}}),
                       EncodeTextSet({"nickname", "age"})});
  rows.rows.push_back({EncodeUuid(uuid), EncodeUuid(tuuid), std::nullopt, std::nullopt,
                       std::nullopt, EncodeTextMap({}), std::nullopt});
  rows.metadata.paging_state = Bytes{0xCA, 0xFE};
  EXPECT_EQ(
      DriverSees(ResultBody{rows}, 42),
      fmt::format(
          R"({{"columns":[["ficus","profiles","user_id","uuid"],["ficus","profiles","update_id","timeuuid"],)"
          R"(["ficus","profiles","last_updated_ts","timestamp"],["ficus","profiles","updated_us","bigint"],)"
          R"(["ficus","profiles","nickname","varchar"],["ficus","profiles","attributes","map<varchar, varchar>"],)"
          R"(["ficus","profiles","deleted","set<varchar>"]],"kind":2,"paging_state":"cafe",)"
          R"("rows":[["6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","{0}",1795000000123,-1795000000123456,"中文 ok",)"
          R"([["locale","zh-CN"],["plan","pro"]],["age","nickname"]],)"
          R"(["6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","{0}",null,null,null,[],null]],"stream":42,"type":"RESULT"}})",
          tuuid.ToString()));
}

TEST(CqlPythonCross, PythonReadsOurTimeUuidsAsVersion1WithTheirMicroseconds) {
  std::mt19937_64 rng(5);
  std::vector<std::string> lines;
  std::vector<std::int64_t> micros;
  for (int i = 0; i < 500; ++i) {
    micros.push_back(static_cast<std::int64_t>(rng() % 4102444800000000ULL));  // up to 2100
    lines.push_back(
        Hex(EncodeUuid(MakeTimeUuid(micros.back(), static_cast<std::uint16_t>(rng()), rng()))));
  }
  auto out = RunOracle("uuid1micros", lines);
  ASSERT_EQ(out.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(out[i], std::to_string(micros[i])) << lines[i];
}

TEST(CqlPythonCross, DriverDecodesOurPreparedResult) {
  PreparedResult p;
  p.id = Bytes{0x0a, 0x0b, 0x0c};
  p.flags = kMetaGlobalTableSpec;
  p.pk_indexes = {2};
  p.bind_columns = {
      Col("attributes", {type_id::kMap, "", {{type_id::kVarchar}, {type_id::kVarchar}}}),
      Col("updated_us", {type_id::kBigint}), Col("user_id", {type_id::kUuid})};
  p.result_metadata.flags = kMetaNoMetadata;
  EXPECT_EQ(
      DriverSees(ResultBody{p}),
      R"({"bind":[["ficus","profiles","attributes","map<varchar, varchar>"],["ficus","profiles","updated_us","bigint"],)"
      R"(["ficus","profiles","user_id","uuid"]],"id":"0a0b0c","kind":4,"pk_indexes":[2],"result_columns":[],)"
      R"("stream":1,"type":"RESULT"})");
}

TEST(CqlPythonCross, DriverDecodesOurOtherResponses) {
  EXPECT_EQ(DriverSees(ReadyResponse{}), R"({"stream":1,"type":"READY"})");
  EXPECT_EQ(DriverSees(ResultBody{VoidResult{}}, 7, {"Batch too large"}),
            R"({"kind":1,"stream":7,"type":"RESULT","warnings":["Batch too large"]})");
  EXPECT_EQ(DriverSees(ResultBody{SetKeyspaceResult{"ficus"}}),
            R"({"keyspace":"ficus","kind":3,"stream":1,"type":"RESULT"})");
  EXPECT_EQ(
      DriverSees(ResultBody{SchemaChangeResult{"CREATED", "TABLE", "ficus", "profiles", {}}}),
      R"({"event":[["change_type","CREATED"],["keyspace","ficus"],["table","profiles"],["target_type","TABLE"]],)"
      R"("kind":5,"stream":1,"type":"RESULT"})");
  EXPECT_EQ(DriverSees(SupportedResponse{{{"CQL_VERSION", {"3.0.0", "3.3.1"}},
                                          {"SCYLLA_NR_SHARDS", {"12"}},
                                          {"SCYLLA_SHARD_AWARE_PORT", {"19042"}}}}),
            R"({"cql_versions":["3.0.0","3.3.1"],"options":[["SCYLLA_NR_SHARDS",["12"]],)"
            R"(["SCYLLA_SHARD_AWARE_PORT",["19042"]]],"stream":1,"type":"SUPPORTED"})");
  EXPECT_EQ(
      DriverSees(AuthenticateResponse{"org.apache.cassandra.auth.PasswordAuthenticator"}),
      R"({"authenticator":"org.apache.cassandra.auth.PasswordAuthenticator","stream":1,"type":"AUTHENTICATE"})");
  EXPECT_EQ(DriverSees(AuthSuccessResponse{Bytes{'o', 'k'}}),
            R"({"stream":1,"token":"ok","type":"AUTH_SUCCESS"})");
}

TEST(CqlPythonCross, DriverDecodesOurErrorsWithTheirExtraFields) {
  ErrorResponse unavailable{0x1000, "Cannot achieve consistency"};
  unavailable.consistency = Consistency::kLocalQuorum;
  unavailable.required = 2;
  unavailable.alive_or_received = 1;
  EXPECT_EQ(
      DriverSees(unavailable),
      R"({"code":4096,"info":[["alive_replicas",1],["consistency",6],["required_replicas",2]],)"
      R"("message":"Cannot achieve consistency","stream":1,"type":"ERROR"})");

  ErrorResponse wto{0x1100, "Operation timed out"};
  wto.consistency = Consistency::kQuorum;
  wto.alive_or_received = 1;
  wto.required = 2;
  wto.write_type = "UNLOGGED_BATCH";
  std::string seen = DriverSees(wto);
  EXPECT_NE(seen.find(R"("received_responses",1)"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("required_responses",2)"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("consistency",4)"), std::string::npos) << seen;

  ErrorResponse rto{0x1200, "Read timed out"};
  rto.consistency = Consistency::kOne;
  rto.alive_or_received = 0;
  rto.required = 1;
  rto.data_present = true;
  seen = DriverSees(rto);
  EXPECT_NE(seen.find(R"("data_retrieved",true)"), std::string::npos) << seen;

  ErrorResponse unprep{0x2500, "Prepared query not found"};
  unprep.unprepared_id = Bytes{0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(
      DriverSees(unprep),
      R"({"code":9472,"info":"deadbeef","message":"Prepared query not found","stream":1,"type":"ERROR"})");

  ErrorResponse exists{0x2400, "Table exists"};
  exists.keyspace = "ficus";
  exists.table = "profiles";
  EXPECT_EQ(
      DriverSees(exists),
      R"({"code":9216,"info":[["keyspace","ficus"],["table","profiles"]],"message":"Table exists","stream":1,"type":"ERROR"})");

  ErrorResponse wf{0x1500, "Write failed"};
  wf.consistency = Consistency::kAll;
  wf.alive_or_received = 2;
  wf.required = 3;
  wf.num_failures = 1;
  wf.write_type = "SIMPLE";
  seen = DriverSees(wf);
  EXPECT_NE(seen.find(R"("failures",1)"), std::string::npos) << seen;

  for (std::int32_t code :
       {0x0000, 0x000A, 0x0100, 0x1001, 0x1002, 0x1003, 0x2000, 0x2100, 0x2200, 0x2300}) {
    EXPECT_EQ(
        DriverSees(ErrorResponse{code, "m"}),
        fmt::format(R"({{"code":{},"info":null,"message":"m","stream":1,"type":"ERROR"}})", code));
  }
}

TEST(CqlPythonCross, Murmur3TokensMatchTheDriverForThousandsOfKeys) {
  std::mt19937_64 rng(77);
  std::vector<Bytes> keys;
  for (int i = 0; i < 4000; ++i) {  // 16-byte uuid partition keys
    Bytes k(16);
    for (auto& x : k) x = static_cast<std::uint8_t>(rng());
    keys.push_back(std::move(k));
  }
  for (int i = 0; i < 1000; ++i) {  // every tail length, high bytes included
    Bytes k(i % 67);
    for (auto& x : k) x = static_cast<std::uint8_t>(rng());
    keys.push_back(std::move(k));
  }
  keys.push_back(RoutingKey({Bytes{1, 2, 3}, Bytes{0xFF, 0x80}}));
  std::vector<std::string> lines;
  lines.reserve(keys.size());
  for (const auto& k : keys) lines.push_back(Hex(k));
  auto out = RunOracle("murmur3", lines);
  ASSERT_EQ(out.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(std::to_string(Murmur3Token(keys[i])), out[i]) << "key " << lines[i];
  }
}

}  // namespace
}  // namespace ficus::cql
