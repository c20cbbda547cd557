#include "model/config_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ficus/testing/temp_dir.h"

namespace ficus::proxy {
namespace {

namespace fs = std::filesystem;

const char* kConfig = R"(# Ficus proxy config
listen: 0.0.0.0:8080
admin: {listen: 127.0.0.1:9901, token_file: admin.token}
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082, health: /healthz}
routes:
  - name: profile-update   # the hot write path
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: profiles
    mode: shadow            # legacy | shadow | canary | full
    percent: 0              # canary share
    compare: {ignore: [data.updated_at]}

  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    mode: "shadow"
)";

std::string Get(const std::string& yaml, size_t route, const char* key) {
  YAML::Node n = YAML::Load(yaml)["routes"][route][key];
  return n.IsDefined() ? n.Scalar() : "<absent>";
}

TEST(ConfigWriter, FormatsPercent) {
  EXPECT_EQ(FormatPercent(0), "0");
  EXPECT_EQ(FormatPercent(1000), "10");
  EXPECT_EQ(FormatPercent(1250), "12.5");
  EXPECT_EQ(FormatPercent(1), "0.01");
  EXPECT_EQ(FormatPercent(9999), "99.99");
  EXPECT_EQ(FormatPercent(10000), "100");
}

TEST(ConfigWriter, ReplacesValuesInPlaceKeepingCommentsAndLayout) {
  RouteFieldUpdate u;
  u.mode = "canary";
  u.percent_bp = 1250;
  auto out = UpdateRouteFields(kConfig, "profile-update", u);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  std::string expected = kConfig;
  expected.replace(expected.find("mode: shadow "), 13, "mode: canary ");
  expected.replace(expected.find("percent: 0"), 10, "percent: 12.5");
  // Only the two values changed; comments and every other byte survive.
  EXPECT_EQ(*out, expected);
  EXPECT_EQ(Get(*out, 0, "mode"), "canary");
  EXPECT_EQ(Get(*out, 0, "percent"), "12.5");
  EXPECT_EQ(Get(*out, 1, "mode"), "shadow");
}

TEST(ConfigWriter, QuotedValuesAndMissingKeys) {
  RouteFieldUpdate u;
  u.mode = "full";
  u.paused = true;
  u.percent_bp = 10000;
  auto out = UpdateRouteFields(kConfig, "profile-get", u);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_EQ(Get(*out, 1, "mode"), "full");
  EXPECT_EQ(Get(*out, 1, "paused"), "true");
  EXPECT_EQ(Get(*out, 1, "percent"), "100");
  EXPECT_NE(out->find("  - name: profile-get\n    percent: 100\n    paused: true\n"),
            std::string::npos)
      << *out;
  EXPECT_NE(out->find("# the hot write path"), std::string::npos);
  EXPECT_EQ(Get(*out, 0, "mode"), "shadow");  // the other route is untouched
}

TEST(ConfigWriter, FlowStyleRoutesAreReEmittedWithTheSameStructure) {
  const char* flow =
      "routes:\n  - {name: r1, mode: legacy, percent: 5}\n  - {name: r2, mode: full}\n";
  RouteFieldUpdate u;
  u.mode = "canary";
  auto out = UpdateRouteFields(flow, "r1", u);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(Get(*out, 0, "mode"), "canary");
  EXPECT_EQ(Get(*out, 0, "percent"), "5");
  EXPECT_EQ(Get(*out, 1, "mode"), "full");
  EXPECT_EQ(Get(*out, 0, "name"), "r1");
}

TEST(ConfigWriter, ErrorsNameTheProblem) {
  RouteFieldUpdate u;
  u.mode = "full";
  auto missing = UpdateRouteFields(kConfig, "nope", u);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto bad = UpdateRouteFields("routes: [unclosed", "r", u);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto no_routes = UpdateRouteFields("listen: x\n", "r", u);
  ASSERT_FALSE(no_routes.has_value());
  EXPECT_NE(no_routes.error().message.find("routes"), std::string::npos);
}

TEST(ConfigWriter, WritesTheFileAtomicallyKeepingPermissions) {
  const ficus::testing::TempDir tmp("ficus-cfg");
  const fs::path dir = tmp.path();
  std::string path = (dir / "proxy.yaml").string();
  { std::ofstream(path) << kConfig; }
  ::chmod(path.c_str(), 0640);
  ConfigWriter writer(path);
  RouteFieldUpdate u;
  u.percent_bp = 500;
  auto out = writer.UpdateRoute("profile-update", u);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  std::stringstream ss;
  ss << std::ifstream(path).rdbuf();
  EXPECT_EQ(ss.str(), *out);
  EXPECT_EQ(Get(ss.str(), 0, "percent"), "5");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // No temp file left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  // A failing write leaves the old file intact.
  auto missing = writer.UpdateRoute("nope", u);
  EXPECT_FALSE(missing.has_value());
  std::stringstream again;
  again << std::ifstream(path).rdbuf();
  EXPECT_EQ(again.str(), *out);
  EXPECT_FALSE(WriteFileAtomically((dir / "no-such-dir" / "x.yaml").string(), "x").has_value());
}

}  // namespace
}  // namespace ficus::proxy
