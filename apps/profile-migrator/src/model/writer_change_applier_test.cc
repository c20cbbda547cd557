#include "model/writer_change_applier.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

std::vector<ProfileUpdate> Updates(std::size_t n, std::size_t value_bytes = 1) {
  std::vector<ProfileUpdate> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({"0b7e6c1d-3a52-4f8e-b1c9-2d4e6f8a0b13",
                   static_cast<std::int64_t>(i + 1),
                   {{"k", std::string(value_bytes, 'v')}}});
  }
  return out;
}

// The ranges cover [0, n) in order, without gaps or overlaps.
void ExpectCover(const std::vector<std::pair<std::size_t, std::size_t>>& r, std::size_t n) {
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().first, 0u);
  EXPECT_EQ(r.back().second, n);
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_LT(r[i].first, r[i].second);
    if (i > 0) {
      EXPECT_EQ(r[i].first, r[i - 1].second);
    }
  }
}

TEST(PlanImportRequests, ASmallBatchIsOneRequest) {
  auto r = PlanImportRequests(Updates(30), 5000, 15 << 20, 4, 500);
  ASSERT_EQ(r.size(), 1u);
  ExpectCover(r, 30);
  EXPECT_TRUE(PlanImportRequests({}, 5000, 15 << 20, 4, 500).empty());
}

TEST(PlanImportRequests, ALargeBatchIsSplitEvenlyForTheRequestsInFlight) {
  auto r = PlanImportRequests(Updates(4000), 5000, 15 << 20, 4, 500);
  ASSERT_EQ(r.size(), 4u);
  ExpectCover(r, 4000);
  for (const auto& [a, b] : r) EXPECT_EQ(b - a, 1000u);
  // Not below min_records per request: 1200 updates, 500 minimum -> 2 requests.
  EXPECT_EQ(PlanImportRequests(Updates(1200), 5000, 15 << 20, 4, 500).size(), 2u);
}

TEST(PlanImportRequests, NoRequestPassesTheRecordOrByteLimit) {
  auto r = PlanImportRequests(Updates(23'000), 5000, 15 << 20, 2, 500);
  ExpectCover(r, 23'000);
  for (const auto& [a, b] : r) EXPECT_LE(b - a, 5000u);
  // 1000-byte values: each record bounds at over 6,000 bytes, so a
  // 100,000-byte budget holds at most 16 of them.
  auto big = PlanImportRequests(Updates(100, 1000), 5000, 100'000, 1, 1);
  ExpectCover(big, 100);
  for (const auto& [a, b] : big) EXPECT_LE(b - a, 16u);
  // A single record over the budget still goes alone (the writer judges it).
  auto one = PlanImportRequests(Updates(3, 1000), 5000, 10, 1, 1);
  EXPECT_EQ(one.size(), 3u);
}

}  // namespace
}  // namespace ficus::migrator
