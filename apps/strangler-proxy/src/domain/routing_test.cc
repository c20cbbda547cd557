#include "domain/routing.h"

#include <gtest/gtest.h>

#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::shared_ptr<const Config> Cfg() {
  auto r = ParseConfig(testing::kValidYaml);
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

TEST(Match, MethodAndExactPath) {
  auto c = Cfg();
  ASSERT_NE(Match(*c, "POST", "/api/v1/profile/update"), nullptr);
  EXPECT_EQ(Match(*c, "POST", "/api/v1/profile/update")->name, "profile-update");
  EXPECT_EQ(Match(*c, "GET", "/api/v1/profile/update"), nullptr);     // wrong method
  EXPECT_EQ(Match(*c, "POST", "/api/v1/profile/update/x"), nullptr);  // exact only
  EXPECT_EQ(Match(*c, "POST", "/api/v1/profile/updat"), nullptr);
  EXPECT_EQ(Match(*c, "GET", "/api/v1/user/info"), nullptr);  // default backend
}

TEST(Match, PrefixAnyMethod) {
  auto c = Cfg();
  EXPECT_EQ(Match(*c, "DELETE", "/api/v1/things/42")->name, "v1-prefix");
  EXPECT_EQ(Match(*c, "GET", "/api/v1/things/")->name, "v1-prefix");
  EXPECT_EQ(Match(*c, "GET", "/api/v1/things"), nullptr);
}

TEST(Rewrite, ExactAndPrefixKeepQuery) {
  auto c = Cfg();
  const auto& update = c->routes[0];
  EXPECT_EQ(RewritePath(update, Role::kModern, "/api/v1/profile/update"), "/api/v2/profile/update");
  EXPECT_EQ(RewritePath(update, Role::kLegacy, "/api/v1/profile/update"), "/api/v1/profile/update");
  const auto& prefix = c->routes[2];
  EXPECT_EQ(RewritePath(prefix, Role::kModern, "/api/v1/things/a/b"), "/api/v2/things/a/b");
  auto d = Decide(c->routes[1], "GET", "/api/v1/profile/get", "user_id=x&y=1", CohortState::kIn);
  EXPECT_EQ(d.primary.path, "/api/v2/profile/get?user_id=x&y=1");
}

TEST(Decide, LegacyModeNeverMirrors) {
  Route r;
  r.mode = Mode::kLegacy;
  auto d = Decide(r, "POST", "/p", "", CohortState::kForced);
  EXPECT_EQ(d.primary.role, Role::kLegacy);
  EXPECT_EQ(d.primary.backend, "legacy");
  EXPECT_FALSE(d.mirror);
}

TEST(Decide, ShadowServesLegacyAndMirrorsReadsAndWritesToModern) {
  Route r;
  r.mode = Mode::kShadow;
  r.modern_rewrite = "/v2";
  for (const char* m : {"GET", "POST"}) {
    auto d = Decide(r, m, "/v1", "", CohortState::kIn);
    EXPECT_EQ(d.primary.role, Role::kLegacy);
    EXPECT_EQ(d.primary.path, "/v1");
    ASSERT_TRUE(d.mirror);
    EXPECT_EQ(d.mirror->role, Role::kModern);
    EXPECT_EQ(d.mirror->path, "/v2");
  }
}

TEST(Decide, CanaryFollowsCohortAndMirrorsWritesToTheOtherSide) {
  Route r;
  r.mode = Mode::kCanary;
  r.percent_bp = 1000;
  auto in = Decide(r, "POST", "/p", "", CohortState::kIn);
  EXPECT_EQ(in.primary.role, Role::kModern);
  ASSERT_TRUE(in.mirror);
  EXPECT_EQ(in.mirror->role, Role::kLegacy);
  auto out = Decide(r, "POST", "/p", "", CohortState::kOut);
  EXPECT_EQ(out.primary.role, Role::kLegacy);
  EXPECT_EQ(out.mirror->role, Role::kModern);
  EXPECT_EQ(Decide(r, "POST", "/p", "", CohortState::kNone).primary.role, Role::kLegacy);
  EXPECT_EQ(Decide(r, "POST", "/p", "", CohortState::kForced).primary.role, Role::kModern);
  // Reads are not mirrored in canary unless asked for.
  EXPECT_FALSE(Decide(r, "GET", "/p", "", CohortState::kIn).mirror);
  r.mirror.reads = true;
  EXPECT_TRUE(Decide(r, "GET", "/p", "", CohortState::kIn).mirror);
  // percent 0: nobody but forced requests.
  r.percent_bp = 0;
  EXPECT_EQ(Decide(r, "POST", "/p", "", CohortState::kIn).primary.role, Role::kLegacy);
}

TEST(Decide, FullServesModernAndMirrorsWritesToLegacy) {
  Route r;
  r.mode = Mode::kFull;
  auto w = Decide(r, "PUT", "/p", "", CohortState::kNone);
  EXPECT_EQ(w.primary.role, Role::kModern);
  ASSERT_TRUE(w.mirror);
  EXPECT_EQ(w.mirror->role, Role::kLegacy);
  EXPECT_FALSE(Decide(r, "GET", "/p", "", CohortState::kNone).mirror);
  r.mirror.full_to_legacy = false;
  EXPECT_FALSE(Decide(r, "PUT", "/p", "", CohortState::kNone).mirror);
}

TEST(Decide, PausedRouteBehavesAsLegacy) {
  Route r;
  r.mode = Mode::kFull;
  r.paused = true;
  auto d = Decide(r, "POST", "/p", "", CohortState::kIn);
  EXPECT_EQ(d.primary.role, Role::kLegacy);
  EXPECT_FALSE(d.mirror);
}

TEST(Decide, IsWrite) {
  EXPECT_FALSE(IsWrite("GET"));
  EXPECT_FALSE(IsWrite("HEAD"));
  EXPECT_FALSE(IsWrite("OPTIONS"));
  EXPECT_TRUE(IsWrite("POST"));
  EXPECT_TRUE(IsWrite("PATCH"));
  EXPECT_TRUE(IsWrite("DELETE"));
}

}  // namespace
}  // namespace ficus::proxy
