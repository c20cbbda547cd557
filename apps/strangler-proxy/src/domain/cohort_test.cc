#include "domain/cohort.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "domain/routing.h"
#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::string RandomUuid(std::mt19937_64& rng) {
  char buf[37];
  const uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

TEST(Cohort, HashAgreesWithPhpXxh3) {
  // php -r 'echo hash("xxh3", "ficus-1:6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11");'
  EXPECT_EQ(CohortHash("ficus-1", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"), 0xf74fcad7e273e4fbULL);
  EXPECT_EQ(CohortBucket("ficus-1", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"), 7483u);
  EXPECT_EQ(CohortHash("ficus-1", "user-42"), 0x3924fe1ffbd21654ULL);
  EXPECT_EQ(CohortBucket("ficus-1", "user-42"), 6740u);
}

TEST(Cohort, KeyIsTrimmedAndLowered) {
  EXPECT_EQ(NormalizeCohortKey("  6F1C2A9E-8D0B\t"), "6f1c2a9e-8d0b");
}

TEST(Cohort, TenPercentOfRandomIdsIsTenPercentWithinHalfAPoint) {
  std::mt19937_64 rng(42);
  int in = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    in += InCanary(CohortBucket("ficus-1", RandomUuid(rng)), 1000) ? 1 : 0;
  }
  const double share = static_cast<double>(in) / kN;
  EXPECT_NEAR(share, 0.10, 0.005) << in;
}

TEST(Cohort, RaisingThePercentOnlyAddsUsers) {
  std::mt19937_64 rng(7);
  std::vector<uint32_t> buckets;
  buckets.reserve(20000);
  for (int i = 0; i < 20000; ++i) buckets.push_back(CohortBucket("s", RandomUuid(rng)));
  const uint32_t steps[] = {0, 1, 50, 100, 1000, 1250, 2500, 5000, 9999, 10000};
  for (std::size_t s = 1; s < std::size(steps); ++s) {
    int added = 0;
    for (auto b : buckets) {
      if (InCanary(b, steps[s - 1])) {
        ASSERT_TRUE(InCanary(b, steps[s]))
            << "user left the canary going " << steps[s - 1] << " -> " << steps[s];
      } else if (InCanary(b, steps[s])) {
        ++added;
      }
    }
    // Each raise adds about (delta / 10000) of the users, never none.
    const double expected =
        (steps[s] - steps[s - 1]) / 10000.0 * static_cast<double>(buckets.size());
    if (expected >= 50) {
      EXPECT_NEAR(added, expected, expected * 0.25) << steps[s - 1] << " -> " << steps[s];
    }
  }
  for (auto b : buckets) EXPECT_TRUE(InCanary(b, 10000));
  for (auto b : buckets) EXPECT_FALSE(InCanary(b, 0));
}

TEST(Cohort, SameAnswerAcrossConfigReloads) {
  // Two independent parses of the same file (a reload) route every user the same way.
  auto a = ParseConfig(testing::kValidYaml);
  auto b = ParseConfig(testing::kValidYaml);
  ASSERT_TRUE(a && b);
  const auto& ca = (*a)->cohorts.at("profiles");
  const auto& cb = (*b)->cohorts.at("profiles");
  std::mt19937_64 rng(1);
  int modern = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto id = RandomUuid(rng);
    const auto sa = InCanary(CohortBucket(ca.salt, id), (*a)->routes[1].percent_bp);
    const auto sb = InCanary(CohortBucket(cb.salt, id), (*b)->routes[1].percent_bp);
    ASSERT_EQ(sa, sb);
    modern += sa;
  }
  EXPECT_GT(modern, 0);
}

TEST(Cohort, KeyComesFromFirstPresentSource) {
  auto cfg = ParseConfig(testing::kValidYaml);
  ASSERT_TRUE(cfg);
  const auto& c = (*cfg)->cohorts.at("profiles");
  KeyInputs in;
  in.header = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "X-User-Id") return "From-Header";
    return std::nullopt;
  };
  in.query = "a=1&user_id=from%2Dquery";
  in.body = R"({"user_id":"from-body"})";
  EXPECT_EQ(ExtractCohortKey(c, in), "from-header");
  in.header = nullptr;
  EXPECT_EQ(ExtractCohortKey(c, in), "from-query");
  in.query = "a=1";
  EXPECT_EQ(ExtractCohortKey(c, in), "from-body");
  in.body = R"({"user_id": 42})";
  EXPECT_EQ(ExtractCohortKey(c, in), std::nullopt);
  in.body = "not json";
  EXPECT_EQ(ExtractCohortKey(c, in), std::nullopt);
  in.body = R"(["user_id"])";
  EXPECT_EQ(ExtractCohortKey(c, in), std::nullopt);
  in.query = "user_id=";  // present but empty: keep looking
  in.body = R"({"user_id":"x"})";
  EXPECT_EQ(ExtractCohortKey(c, in), "x");
}

TEST(Cohort, QueryParamDecoding) {
  EXPECT_EQ(QueryParam("a=b+c&d=%41", "d"), "A");
  EXPECT_EQ(QueryParam("a=b+c&d=%41", "a"), "b c");
  EXPECT_EQ(QueryParam("a&b=1", "a"), "");
  EXPECT_EQ(QueryParam("ab=1", "a"), std::nullopt);
  EXPECT_EQ(QueryParam("a=%4", "a"), "%4");
}

}  // namespace
}  // namespace ficus::proxy
