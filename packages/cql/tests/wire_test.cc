#include "ficus/cql/wire.h"

#include <gtest/gtest.h>

#include "ficus/cql/types.h"

namespace ficus::cql {
namespace {

TEST(CqlWriter, EncodesEveryNotationBigEndian) {
  Writer w;
  w.Byte(0xAB);
  w.Short(0x0102);
  w.Int(-2);
  w.Long(0x0102030405060708LL);
  w.String("ab");
  w.LongString("c");
  w.BytesValue(Bytes{0xFF});
  w.NullBytes();
  w.ValueField(Value::Unset());
  w.ShortBytes(Bytes{0x01, 0x02});
  w.ConsistencyField(Consistency::kLocalQuorum);
  EXPECT_EQ(w.bytes(), (Bytes{0xAB, 0x01, 0x02, 0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04,
                              0x05, 0x06, 0x07, 0x08, 0x00, 0x02, 'a',  'b',  0x00, 0x00, 0x00,
                              0x01, 'c',  0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                              0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x02, 0x01, 0x02, 0x00, 0x06}));
}

TEST(CqlWriter, StringMapAndMultimapAndInet) {
  Writer w;
  w.StringMapField({{"k", "v"}});
  w.StringMultimapField({{"A", {"x", "y"}}});
  w.InetField(Inet{{127, 0, 0, 1}, 9042});
  EXPECT_EQ(w.bytes(), (Bytes{0x00, 0x01, 0x00, 0x01, 'k', 0x00, 0x01, 'v',                     //
                              0x00, 0x01, 0x00, 0x01, 'A', 0x00, 0x02, 0x00, 0x01, 'x',  0x00,  //
                              0x01, 'y',  0x04, 127,  0,   0,    1,    0x00, 0x00, 0x23, 0x52}));
}

TEST(CqlReader, RoundTripsWhatWriterWrote) {
  Writer w;
  w.String("héllo");
  w.Long(-5);
  w.StringMultimapField({{"SCYLLA_NR_SHARDS", {"12"}}, {"CQL_VERSION", {"3.0.0", "3.4.5"}}});
  w.InetField(Inet{Bytes(16, 0x20), 19042});
  w.ValueField(Value::Null());
  w.ValueField(Value::Of({7}));
  Reader r(w.bytes());
  EXPECT_EQ(*r.String("s"), "héllo");
  EXPECT_EQ(*r.Long("l"), -5);
  auto mm = r.StringMultimapField("supported");
  ASSERT_TRUE(mm) << mm.error().message;
  EXPECT_EQ(mm->at("CQL_VERSION"), (std::vector<std::string>{"3.0.0", "3.4.5"}));
  auto inet = r.InetField("peer");
  ASSERT_TRUE(inet);
  EXPECT_EQ(inet->port, 19042);
  EXPECT_EQ(r.ValueField("v1")->kind, Value::Kind::kNull);
  EXPECT_EQ(*r.ValueField("v2"), Value::Of({7}));
  EXPECT_TRUE(r.AtEnd());
}

TEST(CqlReader, TruncatedStringNamesFieldOffsetAndBytesNeeded) {
  Bytes b{0x00, 0x00, 0x00, 0x05, 'a', 'b'};  // [string] claims 5 bytes, 2 follow
  Reader r(b, "RESULT body");
  ASSERT_TRUE(r.Short("pad"));
  auto s = r.String("keyspace");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message,
            "cql: truncated RESULT body: keyspace at offset 2: need 7 bytes, have 4");
}

TEST(CqlReader, TruncatedIntReportsFourBytesNeeded) {
  Bytes b{0x00, 0x01};
  Reader r(b, "ERROR body");
  auto v = r.Int("error code");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message,
            "cql: truncated ERROR body: error code at offset 0: need 4 bytes, have 2");
}

TEST(CqlReader, RejectsBadLengths) {
  Bytes neg{0xFF, 0xFF, 0xFF, 0xFD};  // -3 is not a valid [value]
  Reader r(neg);
  auto v = r.ValueField("value 0");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message,
            "cql: bad frame body: value 0 at offset 0: invalid [value] length -3");

  Reader r2(neg);
  auto ls = r2.LongString("query");
  ASSERT_FALSE(ls);
  EXPECT_NE(ls.error().message.find("negative length -3"), std::string::npos);

  Bytes inet{0x05, 1, 2, 3, 4, 5, 0, 0, 0, 0};
  Reader r3(inet);
  auto i = r3.InetField("address");
  ASSERT_FALSE(i);
  EXPECT_NE(i.error().message.find("address size 5"), std::string::npos);

  Bytes cl{0x00, 0x0B};
  Reader r4(cl);
  auto c = r4.ConsistencyField("consistency");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("unknown consistency 0x000b"), std::string::npos);
}

TEST(CqlReader, HugeCountDoesNotReadPastTheBuffer) {
  Bytes b{0xFF, 0xFF};  // string list of 65535 entries, none present
  Reader r(b);
  auto l = r.StringList("warnings");
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("at offset 2: need 2 bytes, have 0"), std::string::npos);
}

TEST(CqlConsistency, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(*ParseConsistency("local_quorum"), Consistency::kLocalQuorum);
  EXPECT_EQ(*ParseConsistency("ONE"), Consistency::kOne);
  EXPECT_FALSE(ParseConsistency("MOST"));
  EXPECT_EQ(ConsistencyName(Consistency::kEachQuorum), "EACH_QUORUM");
}

TEST(CqlUuid, ParsesAndPrintsCanonicalForm) {
  auto u = Uuid::Parse("6F1C2A9E-8d0b-4c1e-9a57-3f2d1b0c4e11");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->ToString(), "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11");
  EXPECT_FALSE(Uuid::Parse("6f1c2a9e8d0b-4c1e-9a57-3f2d1b0c4e11-"));
  EXPECT_FALSE(Uuid::Parse("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4eZZ"));
}

TEST(CqlTypes, CollectionsEncodeAsSpecSection6) {
  EXPECT_EQ(EncodeTextMap({{"a", "b"}}), (Bytes{0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'b'}));
  EXPECT_EQ(EncodeTextSet({"x", "y"}), (Bytes{0, 0, 0, 2, 0, 0, 0, 1, 'x', 0, 0, 0, 1, 'y'}));
  EXPECT_EQ(EncodeBigint(-1), Bytes(8, 0xFF));
  auto m = DecodeTextMap(EncodeTextMap({{"plan", "pro"}, {"locale", "zh-CN"}}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("locale"), "zh-CN");
  auto s = DecodeTextSet(EncodeTextSet({"nickname"}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count("nickname"), 1u);
}

TEST(CqlTypes, DecodersRejectMalformedValues) {
  EXPECT_FALSE(DecodeBigint(Bytes(7, 0)));
  EXPECT_FALSE(DecodeUuid(Bytes(15, 0)));
  Bytes truncated{0, 0, 0, 1, 0, 0, 0, 5, 'a'};
  auto m = DecodeTextMap(truncated);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message,
            "cql: truncated map<text,text> value: key 0 at offset 4: need 9 bytes, have 5");
  Bytes null_elem{0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(DecodeTextSet(null_elem));
  Bytes trailing{0, 0, 0, 0, 1};
  EXPECT_FALSE(DecodeTextSet(trailing));
}

TEST(CqlTypes, TimeUuidKeepsMicrosAndVersion) {
  const std::int64_t micros = 1795000000123456;
  Uuid u = MakeTimeUuid(micros, 0x1234, 0xA1B2C3D4E5F6ULL);
  EXPECT_EQ(u.bytes[6] >> 4, 1);       // version 1
  EXPECT_EQ(u.bytes[8] & 0xC0, 0x80);  // RFC 4122 variant
  EXPECT_EQ(TimeUuidMicros(u), micros);
  EXPECT_EQ(u.bytes[15], 0xF6);
}

}  // namespace
}  // namespace ficus::cql
