#include "domain/cdc/binlog_stream.h"

#include <gtest/gtest.h>

#include "domain/cdc/captured_binlog_testdata.h"
#include "domain/cdc/change_planner.h"
#include "domain/cdc/follow_state.h"

namespace ficus::migrator::cdc {
namespace {

constexpr const char* kU = "0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13";
constexpr const char* kV = "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11";

std::vector<std::uint8_t> Hex(std::string_view h) {
  std::vector<std::uint8_t> out;
  out.reserve(h.size() / 2);
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> Events() {
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(testdata::kCapturedEvents.size());
  for (auto h : testdata::kCapturedEvents) out.push_back(Hex(h));
  return out;
}

// Feeds every event; returns the completed transactions or the first error.
Result<std::vector<Transaction>> FeedAll(BinlogStream& s,
                                         const std::vector<std::vector<std::uint8_t>>& events) {
  std::vector<Transaction> out;
  for (const auto& e : events) {
    auto t = s.Feed(e);
    if (!t) return tl::unexpected(t.error());
    if (*t) out.push_back(std::move(**t));
  }
  return out;
}

TEST(BinlogStream, CapturedEventsBecomeTransactionsOfProfileChanges) {
  BinlogStream s(ProfileTables{}, true);
  auto txs = FeedAll(s, Events());
  ASSERT_TRUE(txs) << txs.error().message;
  ASSERT_EQ(txs->size(), 4u);

  const Transaction& t1 = (*txs)[0];
  EXPECT_EQ(t1.gtid, (Gtid{0, 1, 22}));
  EXPECT_EQ(t1.event_time, 1700000000u);
  EXPECT_EQ(t1.row_events, 4u);  // 2 inserted, 1 updated, 1 deleted
  const std::int64_t stamp = 1700000000123456;
  ASSERT_EQ(t1.changes.size(), 4u);
  EXPECT_EQ(t1.changes[0], (AttributeChange{kU, "plan", "pro", stamp}));
  EXPECT_EQ(t1.changes[1], (AttributeChange{kU, "gone", std::nullopt, stamp}));
  // The UPDATE kept updated_us: event time, but after the old stamp.
  EXPECT_EQ(t1.changes[2], (AttributeChange{kU, "plan", "team", stamp + 1, true}));
  // The DELETE of a row: a tombstone at the same rule's stamp.
  EXPECT_EQ(t1.changes[3], (AttributeChange{kU, "gone", std::nullopt, stamp + 1, true}));
  EXPECT_TRUE(t1.deletions.empty());

  const Transaction& t2 = (*txs)[1];
  EXPECT_EQ(t2.gtid, (Gtid{0, 1, 23}));
  EXPECT_TRUE(t2.changes.empty());
  ASSERT_EQ(t2.deletions.size(), 1u);
  EXPECT_EQ(t2.deletions[0], (ProfileDeletion{kV, std::int64_t{1700000001} * 1'000'000}));

  EXPECT_TRUE((*txs)[2].ddl);
  EXPECT_NE((*txs)[2].statement.find("create table"), std::string::npos);
  EXPECT_TRUE((*txs)[2].changes.empty());

  EXPECT_EQ((*txs)[3].gtid, (Gtid{0, 1, 25}));
  EXPECT_TRUE((*txs)[3].changes.empty());
  EXPECT_EQ((*txs)[3].skipped_rows, 1u);
  EXPECT_EQ(s.counters().ddl_skipped, 1u);
}

TEST(BinlogStream, PlannedUpdatesKeepTheWinnerPerKey) {
  BinlogStream s(ProfileTables{}, true);
  auto txs = FeedAll(s, Events());
  ASSERT_TRUE(txs);
  auto plan = PlanChanges((*txs)[0].changes);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].user_id, kU);
  EXPECT_EQ(plan[0].ts_us, 1700000000123457);
  ASSERT_EQ(plan[0].attributes.size(), 2u);
  EXPECT_EQ(plan[0].attributes[0],
            (std::pair<std::string, std::optional<std::string>>{"gone", std::nullopt}));
  EXPECT_EQ(plan[0].attributes[1],
            (std::pair<std::string, std::optional<std::string>>{"plan", "team"}));
}

TEST(BinlogStream, OtherDatabaseIsNotAProfileTable) {
  ProfileTables t;
  t.database = "elsewhere";
  BinlogStream s(t, true);
  auto txs = FeedAll(s, Events());
  ASSERT_TRUE(txs);
  for (const auto& tx : *txs) {
    EXPECT_TRUE(tx.changes.empty());
    EXPECT_TRUE(tx.deletions.empty());
  }
  EXPECT_EQ((*txs)[0].skipped_rows, 3u);  // three ROWS events, not decoded
}

TEST(BinlogStream, CorruptedByteFailsTheChecksumNamingTheEvent) {
  auto events = Events();
  events[7][40] ^= 0x01;  // inside the WRITE_ROWS event's row data
  BinlogStream s(ProfileTables{}, true);
  auto txs = FeedAll(s, events);
  ASSERT_FALSE(txs);
  EXPECT_NE(txs.error().message.find("WRITE_ROWS"), std::string::npos) << txs.error().message;
  EXPECT_NE(txs.error().message.find("CRC32 mismatch"), std::string::npos);
  EXPECT_NE(txs.error().message.find("GTID 0-1-22"), std::string::npos);
}

TEST(BinlogStream, TruncatedEventIsRefused) {
  auto events = Events();
  events[7].resize(30);
  BinlogStream s(ProfileTables{}, true);
  auto txs = FeedAll(s, events);
  ASSERT_FALSE(txs);
  EXPECT_NE(txs.error().message.find("header says 140 bytes, got 30"), std::string::npos)
      << txs.error().message;
}

std::vector<std::uint8_t> WithType(std::vector<std::uint8_t> ev, std::uint8_t type,
                                   std::uint16_t flags) {
  ev[4] = type;
  ev[17] = static_cast<std::uint8_t>(flags);
  ev[18] = static_cast<std::uint8_t>(flags >> 8);
  return ev;
}

TEST(BinlogStream, UnknownEventStopsUnlessIgnorable) {
  auto events = Events();
  // Without checksums so the retyped event needs no new CRC.
  auto ev = WithType(events[14], 99, 0);  // was the XID
  auto decoded = DecodeEvent(ev, false);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(decoded.error().message.find("unknown binlog event type 99"), std::string::npos);
  auto ignorable = DecodeEvent(WithType(events[14], 99, kIgnorableFlag), false);
  ASSERT_TRUE(ignorable);
  EXPECT_TRUE(std::holds_alternative<Skipped>(ignorable->body));
  auto compressed = DecodeEvent(WithType(events[14], 169, 0), false);
  ASSERT_FALSE(compressed);
  EXPECT_NE(compressed.error().message.find("log_bin_compress"), std::string::npos);
}

TEST(BinlogStream, RowsWithoutTheirTableMapStop) {
  auto events = Events();
  events.erase(events.begin() + 6);  // the first TABLE_MAP
  BinlogStream s(ProfileTables{}, true);
  auto txs = FeedAll(s, events);
  ASSERT_FALSE(txs);
  EXPECT_NE(txs.error().message.find("without its TABLE_MAP"), std::string::npos);
}

TEST(BinlogStream, TableMapWithoutColumnNamesIsRefusedForProfileTables) {
  TableMap m;
  m.database = "ficus";
  m.table = "profile_attributes";
  m.types = {254};
  RowsEventBody rows;
  std::vector<AttributeChange> c;
  std::vector<ProfileDeletion> d;
  auto r = ChangesFromRows(rows, m, TableRole::kAttributes, 1, c, d);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("binlog_row_metadata=FULL"), std::string::npos);
}

// A bare SQL update of a key is stamped just after the value it replaced,
// not at the binlog's clock: legacy compares later writes with that old
// stamp, so an API write stamped before the SQL (by the proxy's clock) but
// committed after it must win in the writer as it wins in legacy.
TEST(ProfileChanges, KeyImpliedTimestampIsJustAfterTheOldStamp) {
  EXPECT_EQ(KeyImpliedTimestamp(100, 5), 6);
  EXPECT_EQ(KeyImpliedTimestamp(100, 99'990'000), 99'990'001);
  const std::int64_t api_stamped_before_the_sql = 99'999'000;  // committed after it
  EXPECT_LT(KeyImpliedTimestamp(100, 99'990'000), api_stamped_before_the_sql);
  EXPECT_EQ(KeyImpliedTimestamp(100, 0), 100'000'000);  // no old stamp: event time
}

TEST(ProfileChanges, AnUpdateWhoseStampMovedBackwardsStillWins) {
  // Moved forward: the row's own stamp.
  EXPECT_EQ(UpdateTimestamp(100, 5, 9).ts_us, 9);
  EXPECT_FALSE(UpdateTimestamp(100, 5, 9).implied);
  // Unchanged (a bare UPDATE): just after the old stamp.
  EXPECT_EQ(UpdateTimestamp(100, 5, 5).ts_us, 6);
  EXPECT_TRUE(UpdateTimestamp(100, 5, 5).implied);
  // Moved backwards: legacy overwrote a newer value (the monolith's write
  // stamped 48.171088 s racing an SQL upsert stamped 48.175488 s). Legacy
  // now holds it, so it must beat the value it overwrote in the writer too.
  const auto back = UpdateTimestamp(100, 48'175'488, 48'171'088);
  EXPECT_EQ(back.ts_us, 48'175'489);
  EXPECT_TRUE(back.implied);
}

TEST(ProfileChanges, ImpliedTimestampIsEventTimeButAfterTheOldStamp) {
  EXPECT_EQ(ImpliedTimestamp(100, 5), 100'000'000);
  EXPECT_EQ(ImpliedTimestamp(100, 100'500'000), 100'500'001);
}

TEST(ChangePlanner, LaterEqualStampWinsAndGroupsSplitAt64Keys) {
  std::vector<AttributeChange> c = {{"u", "k", "a", 5}, {"u", "k", "b", 5}, {"u", "k", "old", 4}};
  auto plan = PlanChanges(c);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].attributes[0].second, std::optional<std::string>("b"));
  std::vector<AttributeChange> many;
  many.reserve(130);
  for (int i = 0; i < 130; ++i) many.push_back({"u", "k" + std::to_string(i), "v", 7});
  auto split = PlanChanges(many);
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(split[0].attributes.size(), 64u);
  EXPECT_EQ(split[2].attributes.size(), 2u);
  auto del = PlanDeletion({"u", 9}, {"a", "b"});
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0].ts_us, 9);
  EXPECT_FALSE(del[0].attributes[1].second.has_value());
}

TEST(Gtid, ParseFormatAndDistance) {
  auto p = GtidPosition::Parse("1-7-3,0-1-42");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "0-1-42,1-7-3");
  auto newer = GtidPosition::Parse("0-1-50,1-7-3,2-1-4");
  EXPECT_EQ(p->DistanceTo(*newer), 12u);
  EXPECT_TRUE(GtidPosition::Parse("")->empty());
  EXPECT_FALSE(GtidPosition::Parse("0-1"));
  EXPECT_FALSE(GtidPosition::Parse("0-1-2,0-1-3"));
  EXPECT_FALSE(GtidPosition::Parse("0-1-x"));
  GtidPosition q;
  q.Advance({0, 1, 5});
  q.Advance({0, 2, 6});
  EXPECT_EQ(q.ToString(), "0-2-6");
}

TEST(FollowState, RoundTripAndErrorsNameTheField) {
  FollowState s{"0-1-42", "backfill", "h:1/db", 123};
  auto back = ParseFollowState(SerializeFollowState(s), "f");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  auto bad = ParseFollowState(R"({"version":1,"gtid":"0-1","phase":"follow"})", "cp.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("cp.json: gtid"), std::string::npos);
  EXPECT_FALSE(ParseFollowState(R"({"version":1,"gtid":"","phase":"x"})", "f"));
  EXPECT_FALSE(ParseFollowState("{", "f"));
  FollowState with_stamps{"0-1-42", "follow", "h:1/db", 123, 2, 4096};
  auto again = ParseFollowState(SerializeFollowState(with_stamps), "f");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, with_stamps);
  auto bad_stamps = ParseFollowState(
      R"({"version":1,"gtid":"0-1-2","phase":"follow","stamps":{"generation":1}})", "cp.json");
  ASSERT_FALSE(bad_stamps);
  EXPECT_NE(bad_stamps.error().message.find("cp.json: stamps"), std::string::npos);
}

}  // namespace
}  // namespace ficus::migrator::cdc
