#include "model/scylla_statements.h"

#include <gtest/gtest.h>

#include "ficus/cql/types.h"

namespace ficus::writer {
namespace {

using cql::Bytes;
using cql::Value;

Uuid User() {
  Uuid u{};
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<std::uint8_t>(0x10 + i);
  return u;
}

ProfileUpdate Update(std::int64_t ts,
                     std::map<std::string, std::optional<std::string>, std::less<>> attrs) {
  ProfileUpdate u;
  u.user = User();
  u.ts_us = ts;
  u.attributes = std::move(attrs);
  return u;
}

Bytes UserBytes() {
  auto u = User();
  return Bytes(u.begin(), u.end());
}

TEST(ScyllaStatements, TextsAreKeyspaceQualifiedAndStampEveryWrite) {
  auto t = ScyllaStatementTexts("ks");
  EXPECT_EQ(t[0],
            "INSERT INTO ks.profiles (user_id, last_updated_ts, update_id, attributes, deleted) "
            "VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?");
  EXPECT_EQ(t[1],
            "UPDATE ks.profiles_current USING TIMESTAMP ? SET attributes = attributes + ?, "
            "updated_us = ? WHERE user_id = ?");
  EXPECT_EQ(t[2],
            "UPDATE ks.profiles_current USING TIMESTAMP ? SET attributes = attributes - ?, "
            "updated_us = ? WHERE user_id = ?");
  EXPECT_EQ(t[3], "SELECT attributes, updated_us FROM ks.profiles_current WHERE user_id = ?");
  EXPECT_NE(t[4].find("INSERT INTO ks.idempotency_keys"), std::string::npos);
  EXPECT_NE(t[4].find("USING TTL ?"), std::string::npos);
}

TEST(ScyllaStatements, UpdateBindsHistoryAddAndRemoveWithTheUpdateStamp) {
  const std::int64_t ts = 1700000000123456;
  auto stmts = UpdateStatements(Update(ts, {{"plan", "pro"}, {"nick", std::nullopt}, {"a", "1"}}));
  ASSERT_EQ(stmts.size(), 3u);
  const Value stamp = Value::Of(Bytes{0x00, 0x06, 0x0A, 0x24, 0x18, 0x20, 0x22, 0x40});
  ASSERT_EQ(stamp, Value::Of(cql::EncodeBigint(ts)));

  EXPECT_EQ(stmts[0].statement, ScyllaStatement::kInsertHistory);
  const auto& h = stmts[0].values;
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0], Value::Of(UserBytes()));
  EXPECT_EQ(h[1], Value::Of(cql::EncodeTimestamp(1700000000123)));  // ms, floored
  auto id = cql::DecodeUuid(h[2].bytes);
  ASSERT_TRUE(id);
  EXPECT_EQ(cql::TimeUuidMicros(*id), ts);
  EXPECT_EQ(id->bytes[6] >> 4, 1);  // version-1 timeuuid
  // Spec section 6: map = [int n] then n times [bytes key][bytes value], keys sorted.
  EXPECT_EQ(h[3], Value::Of(Bytes{0, 0, 0, 2,   0,   0,   0,   1, 'a', 0, 0, 0,   1,   '1', 0,
                                  0, 0, 4, 'p', 'l', 'a', 'n', 0, 0,   0, 3, 'p', 'r', 'o'}));
  EXPECT_EQ(h[4], Value::Of(Bytes{0, 0, 0, 1, 0, 0, 0, 4, 'n', 'i', 'c', 'k'}));
  EXPECT_EQ(h[5], stamp);

  EXPECT_EQ(stmts[1].statement, ScyllaStatement::kAddAttributes);
  EXPECT_EQ(stmts[1].values, (std::vector<Value>{stamp, h[3], stamp, Value::Of(UserBytes())}));
  EXPECT_EQ(stmts[2].statement, ScyllaStatement::kRemoveAttributes);
  EXPECT_EQ(stmts[2].values, (std::vector<Value>{stamp, h[4], stamp, Value::Of(UserBytes())}));
}

TEST(ScyllaStatements, OnlySetsOrOnlyDeletesLeaveOutTheOtherWriteAndBindUnset) {
  auto sets = UpdateStatements(Update(5000, {{"a", "1"}}));
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[1].statement, ScyllaStatement::kAddAttributes);
  EXPECT_EQ(sets[0].values[4], Value::Unset());  // no `deleted` cell, no null tombstone
  auto dels = UpdateStatements(Update(5000, {{"a", std::nullopt}}));
  ASSERT_EQ(dels.size(), 2u);
  EXPECT_EQ(dels[1].statement, ScyllaStatement::kRemoveAttributes);
  EXPECT_EQ(dels[0].values[3], Value::Unset());
}

TEST(ScyllaStatements, UpdateIdIsStableForReplaysAndDistinctForDifferentUpdates) {
  auto a = HistoryUpdateId(Update(42, {{"a", "1"}}));
  EXPECT_EQ(a, HistoryUpdateId(Update(42, {{"a", "1"}})));
  EXPECT_NE(a, HistoryUpdateId(Update(42, {{"a", "2"}})));
  EXPECT_NE(a, HistoryUpdateId(Update(42, {{"a", std::nullopt}})));
  EXPECT_NE(a, HistoryUpdateId(Update(42, {{"a1", ""}})));  // length-prefixed, no aliasing
  EXPECT_NE(a, HistoryUpdateId(Update(43, {{"a", "1"}})));
  EXPECT_EQ(cql::TimeUuidMicros(HistoryUpdateId(Update(43, {{"a", "1"}}))), 43);
}

TEST(ScyllaStatements, EncodedBatchRoundTripsThroughTheFrameCodec) {
  auto stmts = UpdateStatements(Update(77, {{"k", "v"}, {"gone", std::nullopt}}));
  cql::BatchRequest b;
  for (auto& s : stmts) {
    b.statements.push_back({true, "", Bytes{static_cast<std::uint8_t>(s.statement)}, s.values});
  }
  Bytes frame = cql::EncodeRequest(b, 3);
  auto header = cql::DecodeHeader(frame, cql::kRequestVersion);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->opcode, cql::Opcode::kBatch);
  auto decoded = cql::DecodeRequest(header->opcode, cql::ByteView(frame).subspan(cql::kHeaderSize));
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& got = std::get<cql::BatchRequest>(*decoded);
  EXPECT_EQ(got.type, cql::BatchType::kUnlogged);
  ASSERT_EQ(got.statements.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got.statements[i].values, stmts[i].values);
}

cql::RowsResult CurrentRows(std::optional<Bytes> attrs, std::optional<Bytes> updated) {
  cql::RowsResult r;
  r.metadata.column_count = 2;
  r.metadata.columns = {{"ks", "profiles_current", "attributes", {cql::type_id::kMap}},
                        {"ks", "profiles_current", "updated_us", {cql::type_id::kBigint}}};
  r.rows.push_back({std::move(attrs), std::move(updated)});
  return r;
}

TEST(ScyllaStatements, DecodesCurrentRowIntoVisibleProfile) {
  auto p = DecodeCurrent(
      CurrentRows(cql::EncodeTextMap({{"b", "2"}, {"a", "1"}}), cql::EncodeBigint(900)));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->updated_us, 900);
  EXPECT_EQ(VisibleAttributes(*p),
            (std::map<std::string, std::string, std::less<>>{{"a", "1"}, {"b", "2"}}));
  // Every key deleted: the map is null but the profile exists.
  auto empty = DecodeCurrent(CurrentRows(std::nullopt, cql::EncodeBigint(901)));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->cells.empty());
  EXPECT_EQ(empty->updated_us, 901);
  cql::RowsResult none = CurrentRows(std::nullopt, std::nullopt);
  none.rows.clear();
  EXPECT_EQ(DecodeCurrent(none).error().code, ErrorCode::kNotFound);
  auto bad = DecodeCurrent(CurrentRows(Bytes{1, 2}, cql::EncodeBigint(1)));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_EQ(bad.error().message.rfind("scylla: unexpected row: column 'attributes'", 0), 0u)
      << bad.error().message;
}

TEST(ScyllaStatements, IdempotencyRecordRoundTripsThroughItsRow) {
  Profile merged;
  merged.updated_us = 1234;
  merged.cells = {{"a", Cell{0, "x"}}, {"gone", Cell{1200, std::nullopt}}};
  IdempotencyWrite w{"key-1", Fingerprint{}, 555};
  w.fingerprint[0] = 0xAB;
  auto ins = InsertIdempotency(User(), w, merged);
  ASSERT_EQ(ins.values.size(), 7u);
  EXPECT_EQ(ins.values[6], Value::Of(cql::EncodeInt(86400)));  // TTL 24 h
  // The row a SELECT returns carries what the INSERT bound.
  cql::RowsResult r;
  r.metadata.columns = {{"ks", "t", "created_us", {}},
                        {"ks", "t", "fingerprint", {}},
                        {"ks", "t", "updated_us", {}},
                        {"ks", "t", "attributes", {}}};
  r.rows.push_back(
      {ins.values[2].bytes, ins.values[3].bytes, ins.values[4].bytes, ins.values[5].bytes});
  auto rec = DecodeIdempotency(r, User());
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->created_us, 555);
  EXPECT_EQ((*rec)->fingerprint, w.fingerprint);
  EXPECT_EQ((*rec)->user, User());
  EXPECT_EQ((*rec)->profile.updated_us, 1234);
  EXPECT_EQ(VisibleAttributes((*rec)->profile), VisibleAttributes(merged));
  r.rows.clear();
  auto none = DecodeIdempotency(r, User());
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(ScyllaStatements, HistoryRowsDecodeToPartialProfilesWithTombstones) {
  auto upd = Update(1700000000000777, {{"k", "v"}, {"gone", std::nullopt}});
  auto h = UpdateStatements(upd)[0].values;
  cql::RowsResult r;
  r.metadata.columns = {{"ks", "profiles", "last_updated_ts", {}},
                        {"ks", "profiles", "update_id", {}},
                        {"ks", "profiles", "attributes", {}},
                        {"ks", "profiles", "deleted", {}}};
  r.rows.push_back({h[1].bytes, h[2].bytes, h[3].bytes, h[4].bytes});
  auto got = DecodeHistory(r);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].ts_us, upd.ts_us);
  EXPECT_EQ((*got)[0].update.cells.at("k"), (Cell{upd.ts_us, "v"}));
  EXPECT_EQ((*got)[0].update.cells.at("gone"), (Cell{upd.ts_us, std::nullopt}));
}

}  // namespace
}  // namespace ficus::writer
