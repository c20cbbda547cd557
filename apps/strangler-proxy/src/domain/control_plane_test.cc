#include "domain/control_plane.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

std::shared_ptr<const Config> Parse(const std::string& yaml) {
  auto c = ParseConfig(yaml);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? *c : nullptr;
}

const char* kYaml = R"(
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082}
cohorts:
  profiles: {key: [json:user_id], salt: s}
routes:
  - name: upd
    match: {method: POST, path: /u}
    cohort: profiles
    mode: canary
    percent: 10
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.5, window_s: 10, min_requests: 4}
)";

TEST(ControlPlane, ComparesWithTheRoutesIgnorePathsAndKeepsMismatches) {
  ManualClock clock;
  ControlPlane cp(clock);
  ASSERT_TRUE(cp.Configure(*Parse(kYaml)));
  const std::string a = R"({"ret":200,"data":{"updated_at":"x","attributes":{"plan":"pro"}}})";
  const std::string b = R"({"data":{"attributes":{"plan":"pro"},"updated_at":"y"},"ret":200.0})";
  const std::string c = R"({"ret":200,"data":{"updated_at":"x","attributes":{"plan":"free"}}})";
  EXPECT_FALSE(cp.Compare({"upd", "r1", "u1", "POST", "/u", {200, a}, {200, b}}));
  EXPECT_TRUE(cp.Compare({"upd", "r2", "u2", "POST", "/u", {200, a}, {200, c}}));
  auto live = cp.Live("upd");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->mismatch.compared, 2u);
  EXPECT_EQ(live->mismatch.mismatched, 1u);
  auto recent = cp.mismatches().Recent("upd", 10);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].request_id, "r2");
  EXPECT_EQ(recent[0].user_key, "u2");
  ASSERT_EQ(recent[0].diffs.size(), 1u);
  EXPECT_EQ(recent[0].diffs[0].path, "data.attributes.plan");
}

TEST(ControlPlane, BadIgnorePatternNamesItsKeyPath) {
  std::string y = kYaml;
  y.replace(y.find("data.updated_at"), 15, "\"data[\"");
  ControlPlane cp;
  auto st = cp.Configure(*Parse(y));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message.rfind("routes[0].compare.ignore[0]", 0), 0u) << st.error().message;
}

TEST(ControlPlane, TripTurnsTheRouteToShadowUntilReset) {
  ManualClock clock;
  ControlPlane cp(clock);
  auto cfg = Parse(kYaml);
  ASSERT_TRUE(cp.Configure(*cfg));
  EXPECT_EQ(cp.Effective(cfg), cfg);  // nothing tripped: the same config
  EXPECT_FALSE(cp.RecordModern("upd", true));
  EXPECT_FALSE(cp.RecordModern("upd", false));
  EXPECT_FALSE(cp.RecordModern("upd", true));
  EXPECT_TRUE(cp.RecordModern("upd", true));   // 3/4 errors > 0.5 with 4 requests
  EXPECT_FALSE(cp.RecordModern("upd", true));  // only once
  EXPECT_TRUE(cp.Tripped("upd"));
  auto eff = cp.Effective(cfg);
  EXPECT_EQ(eff->routes[0].mode, Mode::kShadow);
  EXPECT_EQ(cfg->routes[0].mode, Mode::kCanary);
  // A reload keeps the trip.
  ASSERT_TRUE(cp.Configure(*cfg));
  EXPECT_TRUE(cp.Tripped("upd"));
  ASSERT_TRUE(cp.ResetFallback("upd"));
  EXPECT_EQ(cp.Effective(cfg)->routes[0].mode, Mode::kCanary);
  EXPECT_FALSE(cp.ResetFallback("nope"));
}

TEST(ControlPlane, ATripMovesTheWholeRouteGroup) {
  // The read route shares the cohort: when writes trip, reads fall back too
  // (else a user's reads stay on modern while its writes go to legacy).
  const std::string y = std::string(kYaml) + R"(
  - name: get
    match: {method: GET, path: /g}
    cohort: profiles
    mode: canary
    percent: 10
  - name: other
    match: {method: GET, path: /o}
    mode: full
)";
  ManualClock clock;
  ControlPlane cp(clock);
  auto cfg = Parse(y);
  ASSERT_TRUE(cp.Configure(*cfg));
  for (int i = 0; i < 4; ++i) (void)cp.RecordModern("upd", true);
  EXPECT_TRUE(cp.Tripped("get"));
  EXPECT_FALSE(cp.Tripped("other"));
  auto eff = cp.Effective(cfg);
  EXPECT_EQ(eff->routes[0].mode, Mode::kShadow);
  EXPECT_EQ(eff->routes[1].mode, Mode::kShadow);
  EXPECT_EQ(eff->routes[2].mode, Mode::kFull);
  ASSERT_TRUE(cp.ResetFallback("get"));  // resetting any route resets its group
  EXPECT_FALSE(cp.Tripped("upd"));
  EXPECT_EQ(cp.Effective(cfg)->routes[0].mode, Mode::kCanary);
}

TEST(ControlPlane, ModernErrorsDoNotCountWhileModernServesNobody) {
  std::string y = kYaml;
  y.replace(y.find("mode: canary"), 12, "mode: shadow");
  ControlPlane cp;
  ASSERT_TRUE(cp.Configure(*Parse(y)));
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(cp.RecordModern("upd", true));
  EXPECT_FALSE(cp.Tripped("upd"));
}

TEST(ControlPlane, LiveTrafficPerBackend) {
  ManualClock clock;
  ControlPlane cp(clock);
  ASSERT_TRUE(cp.Configure(*Parse(kYaml)));
  for (int i = 0; i < 90; ++i) cp.RecordPrimary("upd", false, 4000, false);
  for (int i = 0; i < 10; ++i) cp.RecordPrimary("upd", true, 1000, i == 0);
  clock.Advance(std::chrono::seconds(1));
  auto live = cp.Live("upd");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->legacy.requests, 90u);
  EXPECT_EQ(live->modern.requests, 10u);
  EXPECT_NEAR(*live->legacy.p50_ms, 4.0, 0.4);
  EXPECT_NEAR(*live->modern.error_rate, 0.1, 1e-9);
  EXPECT_FALSE(cp.Live("nope").has_value());
}

}  // namespace
}  // namespace ficus::proxy
