#include "domain/update_planner.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

const std::string kUser = "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11";

TEST(UpdatePlanner, GroupsKeysByTimestampAscendingWithTombstones) {
  LegacyProfile p{
      kUser, 30, {{"a", "1", 20}, {"b", std::nullopt, 10}, {"c", "3", 20}, {"d", "4", 30}}};
  auto plan = PlanUpdates(p);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0], (ProfileUpdate{kUser, 10, {{"b", std::nullopt}}}));
  EXPECT_EQ((*plan)[1], (ProfileUpdate{kUser, 20, {{"a", "1"}, {"c", "3"}}}));
  EXPECT_EQ((*plan)[2], (ProfileUpdate{kUser, 30, {{"d", "4"}}}));
}

TEST(UpdatePlanner, SplitsAt64KeysAndAtTheBodyBudget) {
  LegacyProfile p{kUser, 5, {}};
  for (int i = 0; i < 130; ++i) p.keys.push_back({"k" + std::to_string(1000 + i), "v", 5});
  auto plan = PlanUpdates(p);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].attributes.size(), 64u);
  EXPECT_EQ((*plan)[2].attributes.size(), 2u);

  LegacyProfile big{kUser, 5, {}};
  for (int i = 0; i < 64; ++i)
    big.keys.push_back({"k" + std::to_string(i), std::string(1024, '"'), 5});
  auto split = PlanUpdates(big);
  ASSERT_TRUE(split);
  EXPECT_GT(split->size(), 1u);
  for (const auto& u : *split) {
    std::size_t size = 64;
    for (const auto& [k, v] : u.attributes) size += JsonStringSize(k) + 2 + JsonStringSize(*v);
    EXPECT_LE(size, kMaxBodyBytes);
  }
}

TEST(UpdatePlanner, RejectsNonPositiveTimestamps) {
  LegacyProfile p{kUser, 5, {{"a", "1", 0}}};
  auto plan = PlanUpdates(p);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("key a"), std::string::npos);
}

TEST(UpdatePlanner, EmptyProfileNeedsNoWrites) {
  auto plan = PlanUpdates(LegacyProfile{kUser, 5, {}});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->empty());
}

TEST(UpdatePlanner, OverwriteWritesOnlyDifferences) {
  std::vector<KeyState> current{{"a", "1", 5}, {"b", "2", 5}, {"c", std::nullopt, 5}};
  std::map<std::string, std::string> wanted{{"a", "1"}, {"b", "20"}, {"c", "3"}, {"d", "4"}};
  auto plan = PlanOverwrite(kUser, current, wanted, 99);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (ProfileUpdate{kUser, 99, {{"b", "20"}, {"c", "3"}, {"d", "4"}}}));
  auto del = PlanOverwrite(kUser, current, {{"a", "1"}}, 7);
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(del[0], (ProfileUpdate{kUser, 7, {{"b", std::nullopt}}}));
  EXPECT_TRUE(PlanOverwrite(kUser, current, {{"a", "1"}, {"b", "2"}}, 7).empty());
}

TEST(UpdatePlanner, JsonStringSizeCountsEscapes) {
  EXPECT_EQ(JsonStringSize("ab"), 4u);
  EXPECT_EQ(JsonStringSize("a\"b"), 6u);
  EXPECT_EQ(JsonStringSize(std::string("\x01", 1)), 8u);
}

}  // namespace
}  // namespace ficus::migrator
