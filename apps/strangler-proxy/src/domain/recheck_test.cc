#include "domain/recheck.h"

#include <gtest/gtest.h>

#include <string>

#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::shared_ptr<const Config> Parse(const std::string& yaml) {
  auto c = ParseConfig(yaml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : nullptr;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(Recheck, AWriteRouteIsReadAgainThroughItsGroupsGetRoute) {
  auto cfg = Parse(testing::kValidYaml);
  const Route& update = cfg->routes[0];
  ASSERT_EQ(RecheckRoute(*cfg, update)->name, "profile-get");
  auto plan = PlanRecheck(*cfg, update, "u 1/ü");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->via_route, "profile-get");
  EXPECT_EQ(plan->legacy_backend, "legacy");
  EXPECT_EQ(plan->modern_backend, "modern");
  // Each side's rewrite; the key where the cohort reads it, percent-encoded.
  EXPECT_EQ(plan->legacy_target, "/api/v1/profile/get?user_id=u%201%2F%C3%BC");
  EXPECT_EQ(plan->modern_target, "/api/v2/profile/get?user_id=u%201%2F%C3%BC");
  ASSERT_EQ(plan->headers.size(), 1U);
  EXPECT_EQ(plan->headers[0].first, "X-User-Id");
  EXPECT_EQ(plan->headers[0].second, "u 1/ü");
}

TEST(Recheck, AReadRouteIsReadAgainItself) {
  auto cfg = Parse(testing::kValidYaml);
  EXPECT_EQ(RecheckRoute(*cfg, cfg->routes[1]), &cfg->routes[1]);
}

TEST(Recheck, OffWithoutCohortKeyOrWhenDisabled) {
  auto cfg = Parse(testing::kValidYaml);
  EXPECT_EQ(RecheckRoute(*cfg, cfg->routes[2]), nullptr);  // no cohort
  EXPECT_FALSE(PlanRecheck(*cfg, cfg->routes[0], ""));     // no user key
  auto off = Parse(Replace(testing::kValidYaml, "compare: {ignore: [data.updated_at]}",
                           "compare: {ignore: [data.updated_at], recheck_ms: 0}"));
  EXPECT_EQ(RecheckRoute(*off, off->routes[0]), nullptr);
  EXPECT_EQ(off->routes[1].compare.recheck_ms, 1000U);  // the default
  EXPECT_EQ(off->routes[1].compare.recheck_tries, 3U);
}

TEST(Recheck, AJsonOnlyCohortKeyCannotBeReadAgain) {
  auto cfg =
      Parse(Replace(testing::kValidYaml, "key: [header:X-User-Id, query:user_id, json:user_id]",
                    "key: [json:user_id]"));
  EXPECT_NE(RecheckRoute(*cfg, cfg->routes[0]), nullptr);
  EXPECT_FALSE(PlanRecheck(*cfg, cfg->routes[0], "u1"));
}

TEST(Recheck, RecheckViaNamesTheReadRouteAndIsValidated) {
  auto cfg = Parse(Replace(testing::kValidYaml, "compare: {ignore: [data.updated_at]}",
                           "compare: {ignore: [data.updated_at], recheck_via: profile-get}"));
  EXPECT_EQ(RecheckRoute(*cfg, cfg->routes[0])->name, "profile-get");
  auto bad = [](const std::string& via) {
    auto c = ParseConfig(Replace(testing::kValidYaml, "compare: {ignore: [data.updated_at]}",
                                 "compare: {recheck_via: " + via + "}"));
    EXPECT_FALSE(c);
    return c ? std::string() : c.error().message;
  };
  EXPECT_EQ(bad("nope"), "routes[0].compare.recheck_via: unknown route 'nope'");
  EXPECT_EQ(bad("profile-update"),
            "routes[0].compare.recheck_via: route 'profile-update' must match method GET and an "
            "exact path");
  auto ms = ParseConfig(Replace(testing::kValidYaml, "compare: {ignore: [data.updated_at]}",
                                "compare: {recheck_ms: 60001}"));
  ASSERT_FALSE(ms);
  EXPECT_NE(ms.error().message.find("routes[0].compare.recheck_ms"), std::string::npos)
      << ms.error().message;
}

TEST(Recheck, Verdicts) {
  auto v = [](bool busy, bool answered, bool differ, unsigned left) {
    return RecheckVerdictFor({busy, answered, differ, left});
  };
  EXPECT_EQ(v(false, true, false, 2), RecheckVerdict::kTransient);
  EXPECT_EQ(v(false, true, false, 0), RecheckVerdict::kTransient);
  EXPECT_EQ(v(false, true, true, 1), RecheckVerdict::kRetry);  // the follower may be behind
  EXPECT_EQ(v(false, true, true, 0), RecheckVerdict::kReport);
  EXPECT_EQ(v(false, false, false, 1), RecheckVerdict::kRetry);  // a side did not answer
  EXPECT_EQ(v(false, false, false, 0), RecheckVerdict::kReport);
  EXPECT_EQ(v(true, true, false, 1), RecheckVerdict::kRetry);  // busy: answers may straddle a write
  EXPECT_EQ(v(true, true, false, 0), RecheckVerdict::kPending);
}

}  // namespace
}  // namespace ficus::proxy
