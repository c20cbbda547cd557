#include "model/scylla_schema.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + ";\n";
  return out;
}

TEST(ScyllaSchema, ReplicationSpecsBecomeCqlMaps) {
  EXPECT_EQ(*ParseReplication("SimpleStrategy:1"),
            "{'class': 'SimpleStrategy', 'replication_factor': 1}");
  EXPECT_EQ(*ParseReplication("NetworkTopologyStrategy:dc1=3"),
            "{'class': 'NetworkTopologyStrategy', 'dc1': 3}");
  EXPECT_EQ(*ParseReplication("NetworkTopologyStrategy:eu-west=3,us_east.1=2"),
            "{'class': 'NetworkTopologyStrategy', 'eu-west': 3, 'us_east.1': 2}");
}

TEST(ScyllaSchema, BadReplicationIsNamed) {
  auto msg = [](std::string_view s) { return ParseReplication(s).error().message; };
  EXPECT_EQ(msg("3"),
            "--replication: expected SimpleStrategy:<rf> or "
            "NetworkTopologyStrategy:<dc>=<rf>[,...], got '3'");
  EXPECT_EQ(msg("SimpleStrategy:0"),
            "--replication: SimpleStrategy: replication factor must be 1..15, got '0'");
  EXPECT_EQ(msg("LocalStrategy:1"),
            "--replication: unknown strategy 'LocalStrategy' (use SimpleStrategy or "
            "NetworkTopologyStrategy)");
  EXPECT_EQ(msg("NetworkTopologyStrategy:dc1"),
            "--replication: data centre entry 'dc1': expected <dc>=<rf> with dc of [A-Za-z0-9_.-]");
  EXPECT_EQ(msg("NetworkTopologyStrategy:dc1=3,dc1=2"),
            "--replication: data centre 'dc1' given twice");
  EXPECT_EQ(msg("NetworkTopologyStrategy:dc'1=3"),
            "--replication: data centre entry 'dc'1=3': expected <dc>=<rf> with dc of "
            "[A-Za-z0-9_.-]");
}

TEST(ScyllaSchema, EmbeddedFilesMatchTheSourceTreeAndRender) {
  auto embedded = EmbeddedCqlSchema();
  auto on_disk = LoadCqlSchemaDir(FICUS_CQL_SCHEMA_DIR);
  ASSERT_TRUE(on_disk) << on_disk.error().message;
  ASSERT_EQ(embedded.size(), on_disk->size());
  for (std::size_t i = 0; i < embedded.size(); ++i) {
    EXPECT_EQ(embedded[i].name, (*on_disk)[i].name);
    EXPECT_EQ(embedded[i].text, (*on_disk)[i].text) << embedded[i].name;
  }
  auto stmts = RenderCqlSchema(
      embedded, {"ficus_prod", *ParseReplication("NetworkTopologyStrategy:dc1=3"), 0});
  ASSERT_TRUE(stmts) << stmts.error().message;
  ASSERT_EQ(stmts->size(), 4u);
  EXPECT_EQ((*stmts)[0],
            "CREATE KEYSPACE IF NOT EXISTS ficus_prod\n"
            "  WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}\n"
            "  AND durable_writes = true");
  std::string all = Joined(*stmts);
  EXPECT_EQ(all.find("--"), std::string::npos);  // comments dropped
  EXPECT_EQ(all.find("{{"), std::string::npos);
  // The design's corrections: frozen history, update_id, non-frozen current map, TTL'd keys.
  EXPECT_NE(all.find("CREATE TABLE IF NOT EXISTS ficus_prod.profiles (\n  user_id uuid,"),
            std::string::npos);
  EXPECT_NE(all.find("attributes frozen<map<text, text>>,\n  deleted frozen<set<text>>"),
            std::string::npos);
  EXPECT_NE(all.find("PRIMARY KEY (user_id, last_updated_ts, update_id)"), std::string::npos);
  EXPECT_NE(all.find("CLUSTERING ORDER BY (last_updated_ts DESC, update_id DESC)"),
            std::string::npos);
  EXPECT_NE(
      all.find("user_id uuid PRIMARY KEY,\n  attributes map<text, text>,\n  updated_us bigint"),
      std::string::npos);
  EXPECT_NE(all.find("default_time_to_live = 86400"), std::string::npos);
}

TEST(ScyllaSchema, RenderRejectsUnknownPlaceholdersBadKeyspaceAndMissingSemicolon) {
  auto r1 =
      RenderCqlSchema({{"x.cql", "CREATE TABLE {{keyspace}}.t ({{columns}});"}}, {"ks", "{}", 0});
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().message, "x.cql: unknown placeholder '{{columns}}'");
  auto r2 = RenderCqlSchema({{"x.cql", "SELECT 1;"}}, {"Bad", "{}", 0});
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message, "keyspace 'Bad': must match [a-z][a-z0-9_]{0,47}");
  auto r3 = RenderCqlSchema({{"x.cql", "SELECT 1; SELECT 2"}}, {"ks", "{}", 0});
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().message, "x.cql: last statement does not end with ';'");
  auto r4 = RenderCqlSchema({{"x.cql", "-- only\n-- comments\n"}}, {"ks", "{}", 0});
  ASSERT_FALSE(r4);
  auto ttl = RenderCqlSchema(EmbeddedCqlSchema(), {"ks", "{}", 2592000});
  ASSERT_TRUE(ttl);
  EXPECT_NE((*ttl)[1].find("default_time_to_live = 2592000"), std::string::npos);
}

}  // namespace
}  // namespace ficus::writer
