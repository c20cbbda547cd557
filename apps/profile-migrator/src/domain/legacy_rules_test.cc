#include "domain/legacy_rules.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

constexpr std::int64_t kNow = 1'764'800'000'000'000;  // 2025-12

LegacyProfile P(std::string id, std::vector<KeyState> keys) {
  return LegacyProfile{std::move(id), kNow - 10, std::move(keys)};
}

TEST(LegacyRules, CanonicalIds) {
  EXPECT_TRUE(IsCanonicalLowerUuid("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"));
  EXPECT_FALSE(IsCanonicalLowerUuid("6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11"));
  EXPECT_FALSE(IsCanonicalLowerUuid("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4E11"));
  EXPECT_FALSE(IsCanonicalLowerUuid("6f1c2a9e8d0b-4c1e-9a57-3f2d1b0c4e11-"));
  EXPECT_FALSE(IsCanonicalLowerUuid(""));
}

TEST(LegacyRules, Utf8AndKeys) {
  EXPECT_TRUE(IsValidUtf8("plain \xe4\xb8\xad \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_TRUE(IsContractKey("a.B:c-d_9"));
  EXPECT_FALSE(IsContractKey("a b"));
  EXPECT_FALSE(IsContractKey(std::string(65, 'k')));
}

TEST(LegacyRules, FindingsNameUserKeyAndKind) {
  auto f = CheckProfile(
      P("6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11", {{"bad key", "v", kNow},
                                                 {"big", std::string(1025, 'x'), kNow},
                                                 {"bin", std::string("\xff"), kNow},
                                                 {"old", "v", 1'700'000'000},
                                                 {"zero", "v", 0},
                                                 {"future", "v", kNow + 2 * 86'400'000'000}}),
      kNow);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0].kind, "non_canonical_id");
  EXPECT_EQ(f[1].kind, "bad_key");
  EXPECT_EQ(f[1].key, "bad key");
  EXPECT_EQ(f[2].kind, "value_too_long");
  EXPECT_EQ(f[3].kind, "value_not_utf8");
  EXPECT_EQ(f[4].kind, "bad_timestamp");
  EXPECT_FALSE(f[4].blocking);  // seconds, not microseconds: migratable, but suspicious
  EXPECT_EQ(f[5].kind, "bad_timestamp");
  EXPECT_TRUE(f[5].blocking);
  EXPECT_EQ(f[6].key, "future");
  EXPECT_FALSE(f[6].blocking);
}

TEST(LegacyRules, CheckMigratableStopsAtTheFirstBlockingFinding) {
  EXPECT_TRUE(CheckMigratable(P("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11", {{"a", "v", 1}})));
  auto s = CheckMigratable(P("6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11",
                             {{"a", "v", kNow}, {"b", std::string(1025, 'x'), kNow}}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "user 6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11 key b: value_too_long: value of 1025 bytes "
            "(limit 1024)");
  EXPECT_FALSE(CheckMigratable(P("6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11", {{"a", "v", kNow}})));
}

}  // namespace
}  // namespace ficus::migrator
