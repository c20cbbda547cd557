#include "domain/merge.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

Cell V(std::int64_t ts, std::string v) {
  return Cell{ts, std::move(v)};
}
Cell T(std::int64_t ts) {
  return Cell{ts, std::nullopt};
}

ProfileUpdate Upd(std::int64_t ts,
                  std::map<std::string, std::optional<std::string>, std::less<>> a) {
  ProfileUpdate u;
  u.ts_us = ts;
  u.attributes = std::move(a);
  return u;
}

TEST(WriterCellBeats, NewerTimestampWins) {
  EXPECT_TRUE(CellBeats(V(2, "a"), V(1, "z")));
  EXPECT_FALSE(CellBeats(V(1, "z"), V(2, "a")));
  EXPECT_TRUE(CellBeats(T(2), V(1, "z")));
  EXPECT_TRUE(CellBeats(V(2, "a"), T(1)));
}

TEST(WriterCellBeats, TieTombstoneBeatsValue) {
  EXPECT_TRUE(CellBeats(T(5), V(5, "zzz")));
  EXPECT_FALSE(CellBeats(V(5, "zzz"), T(5)));
  EXPECT_FALSE(CellBeats(T(5), T(5)));
}

TEST(WriterCellBeats, TieGreaterValueWinsBytewise) {
  EXPECT_TRUE(CellBeats(V(5, "b"), V(5, "a")));
  EXPECT_FALSE(CellBeats(V(5, "a"), V(5, "b")));
  EXPECT_FALSE(CellBeats(V(5, "a"), V(5, "a")));
  // Bytewise: 0xC3 (é) sorts above ASCII.
  EXPECT_TRUE(CellBeats(V(5, "\xC3\xA9"), V(5, "z")));
}

TEST(WriterMergeInto, OlderWriteArrivingLateChangesNothingItLost) {
  Profile p = ToProfile(Upd(200, {{"a", "new"}, {"b", "b2"}}));
  MergeInto(p, ToProfile(Upd(100, {{"a", "old"}, {"c", "c1"}})));
  EXPECT_EQ(p.updated_us, 200);
  auto vis = VisibleAttributes(p);
  EXPECT_EQ(vis.at("a"), "new");
  EXPECT_EQ(vis.at("b"), "b2");
  EXPECT_EQ(vis.at("c"), "c1");
}

TEST(WriterMergeInto, TombstoneIsKeptAndBeatsOlderWrite) {
  Profile p = ToProfile(Upd(200, {{"a", std::nullopt}}));
  MergeInto(p, ToProfile(Upd(100, {{"a", "late"}})));
  EXPECT_TRUE(VisibleAttributes(p).empty());
  ASSERT_EQ(p.cells.count("a"), 1u);
  EXPECT_EQ(p.cells.at("a"), T(200));
}

TEST(WriterMergeInto, OrderDoesNotMatter) {
  std::vector<Profile> ops = {
      ToProfile(Upd(300, {{"a", "x"}, {"b", "m"}})),
      ToProfile(Upd(300, {{"a", std::nullopt}, {"b", "z"}})), ToProfile(Upd(300, {{"b", "c"}})),
      ToProfile(Upd(100, {{"c", "1"}, {"a", "old"}})), ToProfile(Upd(400, {{"c", std::nullopt}}))};
  std::vector<int> idx = {0, 1, 2, 3, 4};
  Profile first;
  bool have = false;
  do {
    Profile p;
    for (int i : idx) MergeInto(p, ops[i]);
    if (!have) {
      first = p;
      have = true;
    }
    EXPECT_EQ(p, first);
  } while (std::next_permutation(idx.begin(), idx.end()));
  auto vis = VisibleAttributes(first);
  EXPECT_EQ(vis.size(), 1u);
  EXPECT_EQ(vis.at("b"), "z");
  EXPECT_EQ(first.updated_us, 400);
}

TEST(WriterMergeInto, IdempotentReplay) {
  Profile p = ToProfile(Upd(10, {{"a", "1"}}));
  Profile once = p;
  MergeInto(p, ToProfile(Upd(10, {{"a", "1"}})));
  EXPECT_EQ(p, once);
}

TEST(WriterMergeInto, MovingOverloadsGiveTheSameProfileAsCopying) {
  ProfileUpdate u;
  u.ts_us = 300;
  u.attributes = {{"a", "new"}, {"gone", std::nullopt}, {"z", "a-value-longer-than-sso-buffer"}};
  Profile base;
  base.updated_us = 100;
  base.cells = {{"a", Cell{400, "newer"}}, {"b", Cell{100, "b"}}, {"gone", Cell{200, "x"}}};
  Profile copied = base;
  MergeInto(copied, ToProfile(u));
  ProfileUpdate moved_from = u;
  Profile operand = ToProfile(std::move(moved_from));
  EXPECT_EQ(operand, ToProfile(u));
  Profile moved = base;
  MergeInto(moved, std::move(operand));
  EXPECT_EQ(moved, copied);
  EXPECT_EQ(*moved.cells.at("a").value, "newer");
  EXPECT_FALSE(moved.cells.at("gone").value.has_value());
  EXPECT_EQ(moved.updated_us, 300);
}

}  // namespace
}  // namespace ficus::writer
