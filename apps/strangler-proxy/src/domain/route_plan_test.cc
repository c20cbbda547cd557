#include "domain/route_plan.h"

#include <gtest/gtest.h>

#include <map>

#include "domain/cohort.h"

namespace ficus::proxy {
namespace {

// A request's facts over owned strings.
struct FakeRequest {
  std::string method = "POST";
  std::string path = "/p";
  std::string query;
  std::map<std::string, std::string> headers;  // names as the test spells them
  std::optional<std::string> body;
  std::string target;

  RequestFacts Facts() {
    target = query.empty() ? path : path + "?" + query;
    RequestFacts f;
    f.method = method;
    f.target = target;
    f.path = path;
    f.query = query;
    f.header = [this](std::string_view n) -> std::optional<std::string_view> {
      auto it = headers.find(std::string(n));
      if (it == headers.end()) return std::nullopt;
      return std::string_view(it->second);
    };
    if (body) f.body = *body;
    return f;
  }
};

Cohort HeaderAndJsonCohort() {
  Cohort c;
  c.name = "users";
  c.salt = "ficus-1";
  c.key = {{KeySource::Kind::kHeader, "X-User-Id"}, {KeySource::Kind::kJson, "user_id"}};
  return c;
}

Cohort HeaderCohort() {
  Cohort c = HeaderAndJsonCohort();
  c.key.pop_back();
  return c;
}

Route CanaryRoute(uint32_t percent_bp) {
  Route r;
  r.name = "r";
  r.path = "/p";
  r.modern_rewrite = "/v2";
  r.cohort = "users";
  r.mode = Mode::kCanary;
  r.percent_bp = percent_bp;
  return r;
}

TEST(RoutePlan, UnroutedRequestGoesToTheDefaultBackendUntouched) {
  FakeRequest req;
  req.method = "GET";
  req.path = "/anything";
  req.query = "a=1";
  req.headers["X-Canary-User"] = "true";
  const auto plan = PlanRoute(nullptr, nullptr, req.Facts(), true);
  EXPECT_EQ(plan.primary_target, "/anything?a=1");
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
  EXPECT_EQ(plan.cohort, CohortState::kNone);
  EXPECT_FALSE(plan.mirror);
  EXPECT_FALSE(plan.needs_whole_body);
}

TEST(RoutePlan, CanaryUserHeaderForcesModernInAnyCaseWithoutAKey) {
  const Route r = CanaryRoute(0);
  const Cohort c = HeaderAndJsonCohort();
  FakeRequest req;
  req.headers["X-Canary-User"] = "TRUE";
  req.headers["X-User-Id"] = "u1";
  const auto plan = PlanRoute(&r, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort, CohortState::kForced);
  EXPECT_EQ(plan.primary_role, Role::kModern);
  EXPECT_EQ(plan.primary_target, "/v2");
  EXPECT_TRUE(plan.cohort_key.empty());  // forced: the key is not consulted
  ASSERT_TRUE(plan.mirror);              // a write in canary is mirrored
  EXPECT_EQ(plan.mirror->role, Role::kLegacy);
  // Forced and mirrored: the body is needed for the copy, not for the key.
  EXPECT_TRUE(plan.needs_whole_body);
  req.headers["X-Canary-User"] = "yes";
  EXPECT_EQ(PlanRoute(&r, &c, req.Facts(), false).cohort, CohortState::kOut);
}

TEST(RoutePlan, CanaryUserHeaderIsIgnoredOutsideAnUnpausedCanary) {
  Route r = CanaryRoute(10000);
  r.paused = true;
  const Cohort c = HeaderCohort();
  FakeRequest req;
  req.headers["X-Canary-User"] = "true";
  auto plan = PlanRoute(&r, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort, CohortState::kNone);
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
  r.paused = false;
  r.mode = Mode::kShadow;
  plan = PlanRoute(&r, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort, CohortState::kNone);
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
}

TEST(RoutePlan, KeyDecidesTheCanaryByBucket) {
  const Cohort c = HeaderCohort();
  FakeRequest req;
  req.method = "GET";
  req.headers["X-User-Id"] = "  U-1 ";
  const uint32_t bucket = CohortBucket(c.salt, "u-1");
  Route in = CanaryRoute(bucket + 1);
  auto plan = PlanRoute(&in, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort_key, "u-1");
  EXPECT_EQ(plan.cohort, CohortState::kIn);
  EXPECT_EQ(plan.primary_role, Role::kModern);
  EXPECT_FALSE(plan.mirror);  // a read, reads not mirrored
  EXPECT_FALSE(plan.needs_whole_body);
  Route out = CanaryRoute(bucket);
  plan = PlanRoute(&out, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort, CohortState::kOut);
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
  req.headers.clear();
  plan = PlanRoute(&in, &c, req.Facts(), false);
  EXPECT_EQ(plan.cohort, CohortState::kNone);
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
}

TEST(RoutePlan, KeyOutsideCanaryOnlyForABodyKeepingSinkAndNotInLegacyMode) {
  const Cohort c = HeaderCohort();
  Route r = CanaryRoute(0);
  r.mode = Mode::kShadow;
  FakeRequest req;
  req.method = "GET";
  req.headers["X-User-Id"] = "u1";
  EXPECT_TRUE(PlanRoute(&r, &c, req.Facts(), false).cohort_key.empty());
  auto plan = PlanRoute(&r, &c, req.Facts(), true);
  EXPECT_EQ(plan.cohort_key, "u1");
  EXPECT_EQ(plan.primary_role, Role::kLegacy);  // shadow: the key never moves the primary
  r.mode = Mode::kLegacy;
  EXPECT_TRUE(PlanRoute(&r, &c, req.Facts(), true).cohort_key.empty());
  // Paused (behaves as legacy) still gives the key: the configured mode counts.
  r.mode = Mode::kFull;
  r.paused = true;
  plan = PlanRoute(&r, &c, req.Facts(), true);
  EXPECT_EQ(plan.cohort_key, "u1");
  EXPECT_EQ(plan.primary_role, Role::kLegacy);
}

TEST(RoutePlan, JsonKeyNeedsTheBodyAndIsFoundOnceItIsRead) {
  const Cohort c = HeaderAndJsonCohort();
  FakeRequest req;
  req.method = "GET";  // a read: not mirrored, only the key can need the body
  Route r = CanaryRoute(10000);
  auto from_head = PlanRoute(&r, &c, req.Facts(), false);
  EXPECT_TRUE(from_head.needs_whole_body);
  EXPECT_EQ(from_head.cohort, CohortState::kNone);
  req.body = R"({"user_id":"U-9"})";
  auto whole = PlanRoute(&r, &c, req.Facts(), false);
  EXPECT_EQ(whole.cohort_key, "u-9");
  EXPECT_EQ(whole.cohort, CohortState::kIn);
  EXPECT_EQ(whole.primary_role, Role::kModern);
  // Without a json source a read needs nothing whole.
  const Cohort header_only = HeaderCohort();
  req.body.reset();
  EXPECT_FALSE(PlanRoute(&r, &header_only, req.Facts(), false).needs_whole_body);
}

TEST(RoutePlan, MirroredRequestsNeedTheWholeBody) {
  Route r;
  r.path = "/p";
  r.mode = Mode::kShadow;
  FakeRequest req;
  req.method = "POST";
  auto plan = PlanRoute(&r, nullptr, req.Facts(), false);
  ASSERT_TRUE(plan.mirror);
  EXPECT_EQ(plan.mirror->role, Role::kModern);
  EXPECT_TRUE(plan.needs_whole_body);
  r.mode = Mode::kLegacy;
  plan = PlanRoute(&r, nullptr, req.Facts(), false);
  EXPECT_FALSE(plan.mirror);
  EXPECT_FALSE(plan.needs_whole_body);
}

}  // namespace
}  // namespace ficus::proxy
