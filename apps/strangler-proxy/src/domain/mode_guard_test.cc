#include "domain/mode_guard.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

RouteShape S(Mode m, uint32_t bp = 0, bool paused = false) {
  return RouteShape{m, bp, paused};
}

TEST(ModeGuard, RollbackWaitsForTheLegacyBacklog) {
  auto r = CheckRouteChange(S(Mode::kFull), S(Mode::kLegacy), {3, 0});
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->find("mode:"), std::string::npos);
  EXPECT_NE(r->find("3 acknowledged writes"), std::string::npos);
  EXPECT_FALSE(CheckRouteChange(S(Mode::kFull), S(Mode::kLegacy), {0, 7}).has_value());
  EXPECT_TRUE(CheckRouteChange(S(Mode::kCanary, 1000), S(Mode::kShadow), {1, 0}).has_value());
  EXPECT_TRUE(CheckRouteChange(S(Mode::kCanary, 1000), S(Mode::kCanary, 500), {1, 0}).has_value());
  auto p = CheckRouteChange(S(Mode::kCanary, 1000), S(Mode::kCanary, 1000, true), {1, 0});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->rfind("paused:", 0), 0u);
}

TEST(ModeGuard, CutoverWaitsForTheModernBacklog) {
  EXPECT_TRUE(CheckRouteChange(S(Mode::kCanary, 5000), S(Mode::kFull), {0, 2}).has_value());
  EXPECT_TRUE(CheckRouteChange(S(Mode::kShadow), S(Mode::kCanary, 1000), {0, 2}).has_value());
  auto r = CheckRouteChange(S(Mode::kCanary, 1000), S(Mode::kCanary, 2000), {0, 2});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rfind("percent:", 0), 0u);
  EXPECT_FALSE(CheckRouteChange(S(Mode::kCanary, 1000), S(Mode::kFull), {5, 0}).has_value());
}

TEST(ModeGuard, ChangesThatMoveNobodyNeverWait) {
  EXPECT_FALSE(CheckRouteChange(S(Mode::kLegacy), S(Mode::kShadow), {9, 9}).has_value());
  EXPECT_FALSE(CheckRouteChange(S(Mode::kShadow), S(Mode::kCanary, 0), {9, 9}).has_value());
  EXPECT_FALSE(CheckRouteChange(S(Mode::kFull), S(Mode::kFull), {9, 9}).has_value());
}

}  // namespace
}  // namespace ficus::proxy
