#include "domain/profile_compare.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

const std::string kUser = "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11";

TEST(Compare, EqualLiveAttributesIgnoreTombstonesAndTimestamps) {
  LegacyProfile l{kUser, 10, {{"a", "1", 3}, {"gone", std::nullopt, 9}}};
  ModernProfile m{kUser, 11, {{"a", "1"}}};
  EXPECT_TRUE(CompareProfiles(l, m).equal());
}

TEST(Compare, ReportsEachDifferingKey) {
  LegacyProfile l{kUser, 10, {{"a", "1", 3}, {"b", "2", 3}, {"c", std::nullopt, 3}}};
  ModernProfile m{kUser, 10, {{"b", "x"}, {"c", "3"}}};
  auto d = CompareProfiles(l, m);
  EXPECT_EQ(d.kind, DiffKind::kAttributes);
  ASSERT_EQ(d.keys.size(), 3u);
  EXPECT_EQ(d.keys[0].key, "a");
  EXPECT_EQ(d.keys[0].legacy, "1");
  EXPECT_EQ(d.keys[0].modern, std::nullopt);
  EXPECT_EQ(d.keys[1].key, "b");
  EXPECT_EQ(d.keys[1].modern, "x");
  EXPECT_EQ(d.keys[2].key, "c");
  EXPECT_EQ(d.keys[2].legacy, std::nullopt);
}

TEST(Compare, MissingSides) {
  LegacyProfile l{kUser, 10, {{"a", "1", 3}}};
  EXPECT_EQ(CompareProfiles(l, std::nullopt).kind, DiffKind::kMissingInModern);
  EXPECT_EQ(CompareProfiles(std::nullopt, ModernProfile{kUser, 1, {}}).kind,
            DiffKind::kMissingInLegacy);
  // A legacy profile row without any attribute row never reaches the new store.
  EXPECT_TRUE(CompareProfiles(LegacyProfile{kUser, 10, {}}, std::nullopt).equal());
  // Only tombstones: the writer must still know the profile.
  LegacyProfile dead{kUser, 10, {{"a", std::nullopt, 3}}};
  EXPECT_EQ(CompareProfiles(dead, std::nullopt).kind, DiffKind::kMissingInModern);
  EXPECT_TRUE(CompareProfiles(dead, ModernProfile{kUser, 10, {}}).equal());
}

}  // namespace
}  // namespace ficus::migrator
