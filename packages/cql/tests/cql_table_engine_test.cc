// The table engine's model of Cassandra's rules, statement by statement
// (no network; the store's contract over the wire runs in
// apps/profile-writer/src/model/scylla_profile_store_engine_test.cc).
#include "cql_table_engine.h"

#include <gtest/gtest.h>

#include "ficus/cql/types.h"

namespace ficus::cql::testing {
namespace {

using namespace std::chrono_literals;
using Map = std::map<std::string, std::string>;

Value Big(std::int64_t v) {
  return Value::Of(EncodeBigint(v));
}
Value Text(std::string_view s) {
  return Value::Of(EncodeText(s));
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* ddl :
         {"CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': 1} AND durable_writes = true",
          "CREATE TABLE IF NOT EXISTS ks.cur (id text PRIMARY KEY, m map<text, text>, n bigint)",
          "CREATE TABLE ks.hist (id text, at timestamp, v text, PRIMARY KEY (id, at)) "
          "WITH CLUSTERING ORDER BY (at DESC) AND comment = 'x; y' AND default_time_to_live = 0",
          "CREATE TABLE ks.keys (a text, b text, v text, PRIMARY KEY ((a, b))) "
          "WITH default_time_to_live = 60 AND compaction = {'class': 'X'}"}) {
      auto r = engine_.Execute(ddl, {});
      ASSERT_TRUE(r) << ddl << ": " << r.error().message;
    }
  }

  void Add(std::int64_t ts, const Map& m) {
    auto r = engine_.Execute("UPDATE ks.cur USING TIMESTAMP ? SET m = m + ?, n = ? WHERE id = ?",
                             {Big(ts), Value::Of(EncodeTextMap(m)), Big(ts), Text("u")});
    ASSERT_TRUE(r) << r.error().message;
  }
  void Remove(std::int64_t ts, const std::set<std::string>& keys) {
    auto r = engine_.Execute("UPDATE ks.cur USING TIMESTAMP ? SET m = m - ? WHERE id = ?",
                             {Big(ts), Value::Of(EncodeTextSet(keys)), Text("u")});
    ASSERT_TRUE(r) << r.error().message;
  }
  RowsResult Select(const std::string& q, const std::vector<Value>& v) {
    auto r = engine_.Execute(q, v);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return {};
    return std::get<RowsResult>(*r);
  }
  Map Current() {
    auto rows = Select("SELECT m, n FROM ks.cur WHERE id = ?", {Text("u")});
    if (rows.rows.empty() || !rows.rows[0][0]) return {};
    return *DecodeTextMap(*rows.rows[0][0]);
  }

  CqlTableEngine engine_;
};

TEST(CellWinsTest, TimestampThenTombstoneThenExpiryThenUnsignedValue) {
  auto live = [](std::int64_t ts, std::string v) {
    return StoredCell{ts, Bytes(v.begin(), v.end()), 0, 0, 0};
  };
  const StoredCell dead{5, std::nullopt, 0, 0, 100};
  EXPECT_TRUE(CellWins(live(6, "a"), dead, 100));
  EXPECT_TRUE(CellWins(dead, live(5, "zzz"), 100));
  EXPECT_FALSE(CellWins(live(5, "zzz"), dead, 100));
  EXPECT_TRUE(CellWins(live(5, "b"), live(5, "a"), 100));
  EXPECT_FALSE(CellWins(live(5, "a"), live(5, "b"), 100));
  EXPECT_TRUE(CellWins(live(5, "\xC3\xA9"), live(5, "z"), 100)) << "bytes compare unsigned";
  EXPECT_TRUE(CellWins(live(5, "ab"), live(5, "a"), 100));
  StoredCell expiring{5, Bytes{'a'}, 10, 200, 0};
  EXPECT_TRUE(CellWins(expiring, live(5, "z"), 100)) << "an expiring cell beats a plain one";
  EXPECT_TRUE(CellWins(expiring, live(5, "z"), 300)) << "expired: dead, and dead wins the tie";
  EXPECT_FALSE(CellWins(live(5, "z"), expiring, 300));
}

TEST_F(EngineTest, PerElementLastWriteWinsWhateverTheArrivalOrder) {
  Add(300, {{"a", "newest"}});
  Add(100, {{"a", "oldest"}, {"b", "only"}});
  Remove(200, {"b", "a"});
  EXPECT_EQ(Current(), (Map{{"a", "newest"}}));
  auto rows = Select("SELECT n FROM ks.cur WHERE id = ?", {Text("u")});
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(*DecodeBigint(*rows.rows[0][0]), 300) << "n keeps the newest write";
  Add(150, {{"b", "late"}});
  EXPECT_EQ(Current(), (Map{{"a", "newest"}})) << "the tombstone at 200 shadows the write at 150";
}

TEST_F(EngineTest, EqualTimestampsTombstoneThenGreaterValue) {
  Add(300, {{"a", "x"}, {"b", "m"}});
  Remove(300, {"a"});
  Add(300, {{"a", "zzz"}, {"b", "z"}});
  Add(300, {{"b", "c"}});
  EXPECT_EQ(Current(), (Map{{"b", "z"}}));
}

TEST_F(EngineTest, NullWritesATombstoneUnsetLeavesTheColumnAlone) {
  Add(100, {{"a", "1"}});
  ASSERT_TRUE(engine_.Execute("UPDATE ks.cur USING TIMESTAMP ? SET m = m + ?, n = ? WHERE id = ?",
                              {Big(200), Value::Unset(), Value::Null(), Text("u")}));
  auto rows = Select("SELECT m, n FROM ks.cur WHERE id = ?", {Text("u")});
  ASSERT_EQ(rows.rows.size(), 1u) << "the map element keeps the row alive";
  EXPECT_EQ(*DecodeTextMap(*rows.rows[0][0]), (Map{{"a", "1"}}));
  EXPECT_FALSE(rows.rows[0][1]) << "n deleted at 200";
  Remove(300, {"a"});
  EXPECT_TRUE(Select("SELECT m, n FROM ks.cur WHERE id = ?", {Text("u")}).rows.empty())
      << "no live cell and no row marker (UPDATE writes none): no row";
}

TEST_F(EngineTest, ClusteringOrderDescAndLimit) {
  for (std::int64_t at : {20, 10, 30}) {
    ASSERT_TRUE(
        engine_.Execute("INSERT INTO ks.hist (id, at, v) VALUES (?, ?, ?)",
                        {Text("u"), Value::Of(EncodeTimestamp(at)), Text(std::to_string(at))}));
  }
  auto rows = Select("SELECT at, v FROM ks.hist WHERE id = ? LIMIT ?",
                     {Text("u"), Value::Of(EncodeInt(2))});
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(*DecodeText(*rows.rows[0][1]), "30");
  EXPECT_EQ(*DecodeText(*rows.rows[1][1]), "20");
}

TEST_F(EngineTest, TtlExpiresRowsAndTheExpiredCellShadowsOlderData) {
  const char* insert = "INSERT INTO ks.keys (a, b, v) VALUES (?, ?, ?) USING TTL ?";
  const char* select = "SELECT v FROM ks.keys WHERE a = ? AND b = ?";
  ASSERT_TRUE(engine_.Execute(insert, {Text("x"), Text("1"), Text("v"), Value::Of(EncodeInt(10))}));
  ASSERT_TRUE(engine_.Execute("INSERT INTO ks.keys (a, b, v) VALUES (?, ?, ?)",
                              {Text("x"), Text("2"), Text("v")}));  // table default: 60 s
  EXPECT_EQ(Select(select, {Text("x"), Text("1")}).rows.size(), 1u);
  engine_.AdvanceClock(11s);
  EXPECT_TRUE(Select(select, {Text("x"), Text("1")}).rows.empty()) << "TTL 10 s passed";
  EXPECT_EQ(Select(select, {Text("x"), Text("2")}).rows.size(), 1u);
  engine_.AdvanceClock(50s);
  EXPECT_TRUE(Select(select, {Text("x"), Text("2")}).rows.empty()) << "default TTL 60 s passed";
  // An expired cell is a tombstone at its timestamp: an older write stays hidden.
  ASSERT_TRUE(engine_.Execute("INSERT INTO ks.keys (a, b, v) VALUES (?, ?, ?) USING TIMESTAMP ?",
                              {Text("x"), Text("1"), Text("old"), Big(1)}));
  EXPECT_TRUE(Select(select, {Text("x"), Text("1")}).rows.empty())
      << "the expired row marker and cell (newer) shadow the older insert";
}

TEST_F(EngineTest, BadInputIsAnErrorNamingTheProblem) {
  auto r = engine_.Execute("UPDATE ks.cur USING TIMESTAMP ? SET n = ? WHERE id = ?",
                           {Big(1), Value::Of(EncodeInt(1)), Text("u")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("n: expected 8 bytes for bigint"), std::string::npos)
      << r.error().message;
  r = engine_.Execute("UPDATE ks.cur SET n = ? WHERE n = ?", {Big(1), Big(1)});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("partition key parts are missing: id"), std::string::npos)
      << r.error().message;
  r = engine_.Execute("DELETE FROM ks.cur WHERE id = ?", {Text("u")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("at 'delete'"), std::string::npos) << r.error().message;
  r = engine_.Execute("SELECT m FROM ks.nope WHERE id = ?", {Text("u")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unconfigured table ks.nope"), std::string::npos);
  r = engine_.Execute("UPDATE ks.cur SET n = ? WHERE id = ?", {Big(1), Value::Of({0xC3})});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("invalid UTF-8"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ficus::cql::testing
