#include "domain/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseConfig(yaml);
  if (r) return "<ok>";
  return r.error().message;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

TEST(Config, ParsesTheDesignExample) {
  auto r = ParseConfig(testing::kValidYaml);
  ASSERT_TRUE(r) << r.error().message;
  const Config& c = **r;
  EXPECT_EQ(c.listen.ToString(), "127.0.0.1:8080");
  ASSERT_EQ(c.routes.size(), 3u);
  EXPECT_EQ(c.routes[0].mode, Mode::kShadow);
  EXPECT_EQ(c.routes[0].method, "POST");
  EXPECT_EQ(c.routes[0].modern_rewrite, "/api/v2/profile/update");
  EXPECT_TRUE(c.routes[0].fallback.enabled);
  EXPECT_EQ(c.routes[0].compare.ignore.at(0), "data.updated_at");
  EXPECT_EQ(c.routes[1].percent_bp, 1250u);
  EXPECT_TRUE(c.routes[2].prefix);
  EXPECT_EQ(c.backends.at("modern").health_path, "/healthz");
  EXPECT_EQ(c.backends.at("modern").address.port, 8082);
  ASSERT_EQ(c.cohorts.at("profiles").key.size(), 3u);
  EXPECT_EQ(c.cohorts.at("profiles").key[2].kind, KeySource::Kind::kJson);
  EXPECT_TRUE(c.cohorts.at("profiles").NeedsBody());
}

TEST(Config, FallbackIsOnByDefaultForEveryRoute) {
  auto r = ParseConfig(testing::kValidYaml);
  ASSERT_TRUE(r) << r.error().message;
  for (const auto& route : (*r)->routes) {
    EXPECT_TRUE(route.fallback.enabled) << route.name << " (no fallback: block needed)";
  }
  auto off = ParseConfig(
      Replace(testing::kValidYaml, "mode: shadow", "mode: shadow\n    fallback: {enabled: false}"));
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE((*off)->routes[0].fallback.enabled);
}

TEST(Config, BadModeNamesItsPath) {
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "mode: shadow", "mode: shadowy")),
            "routes[0].mode: must be one of legacy|shadow|canary|full");
}

TEST(Config, UnknownKeysAreRejectedWithTheirPath) {
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "percent: 0", "percnt: 0")),
            "routes[0].percnt: unknown key (allowed: name|match|backends|rewrite|cohort|mode|"
            "percent|paused|mirror|compare|fallback|upgrade|autopilot|timeouts)");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "health: /healthz", "helth: /healthz"))
                .rfind("backends.modern.helth: unknown key", 0),
            0u);
  EXPECT_EQ(ErrorOf(std::string(testing::kValidYaml) + "extra: 1\n").rfind("extra: unknown key", 0),
            0u);
}

TEST(Config, BadValuesNameTheirPath) {
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "percent: 12.5", "percent: 12.345")),
            "routes[1].percent: must be a number from 0 to 100 with at most two decimals");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "percent: 12.5", "percent: 100.01")),
            "routes[1].percent: must be a number from 0 to 100 with at most two decimals");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "cohort: profiles\n    mode: canary",
                            "cohort: nope\n    mode: canary")),
            "routes[1].cohort: unknown cohort 'nope'");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "http://127.0.0.1:8082", "127.0.0.1:8082")),
            "backends.modern.url: must start with http://");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "header:X-User-Id", "cookie:uid")),
            "cohorts.profiles.key[0]: must be header:NAME, query:NAME or json:NAME");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "method: POST", "method: BREW")),
            "routes[0].match.method: must be one of GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|*");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "path: /api/v1/profile/update", "path: api")),
            "routes[0].match.path: must start with '/'");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "name: profile-get", "name: profile-update")),
            "routes[1].name: duplicate route name 'profile-update'");
  EXPECT_EQ(ErrorOf(Replace(testing::kValidYaml, "error_rate: 0.05", "error_rate: 2")),
            "routes[0].fallback.error_rate: must be a number between 0 and 1");
  EXPECT_EQ(ErrorOf("listen: [1\n"), "yaml: line 2: end of sequence flow not found");
  EXPECT_EQ(ErrorOf(""), "config is empty");
}

TEST(Config, ModernBackendRequiredOnlyWhenAModeNeedsIt) {
  const std::string base = R"(
backends: {legacy: {url: "http://127.0.0.1:1"}}
routes:
  - {name: a, match: {path: /a}, mode: MODE}
)";
  EXPECT_EQ(ErrorOf(Replace(base, "MODE", "legacy")), "<ok>");
  EXPECT_EQ(ErrorOf(Replace(base, "MODE", "shadow")),
            "routes[0].backends.modern: unknown backend 'modern' (needed by mode shadow)");
}

TEST(Config, PercentParsing) {
  EXPECT_EQ(*ParsePercent("0"), 0u);
  EXPECT_EQ(*ParsePercent("10"), 1000u);
  EXPECT_EQ(*ParsePercent("10.5"), 1050u);
  EXPECT_EQ(*ParsePercent("99.99"), 9999u);
  EXPECT_EQ(*ParsePercent("100"), 10000u);
  EXPECT_EQ(*ParsePercent("0.01"), 1u);
  for (const char* bad : {"", "-1", "1.", ".5", "1.234", "101", "abc", "1e2", "100.5"}) {
    EXPECT_FALSE(ParsePercent(bad)) << bad;
  }
}

TEST(Config, CdcFollowerMetricsUrl) {
  const std::string base = R"(
backends: {legacy: {url: "http://127.0.0.1:1"}}
CDC
)";
  auto none = ParseConfig(Replace(base, "CDC", ""));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE((*none)->cdc.metrics_url.empty());
  auto cfg = ParseConfig(Replace(base, "CDC", "cdc: {metrics_url: http://127.0.0.1:9904/metrics}"));
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->cdc.metrics_url, "http://127.0.0.1:9904/metrics");
  EXPECT_EQ((*cfg)->cdc.address.ToString(), "127.0.0.1:9904");
  EXPECT_EQ((*cfg)->cdc.path, "/metrics");
  EXPECT_EQ((*cfg)->cdc.lag_warn_s, 5u);
  EXPECT_EQ((*cfg)->cdc.interval_ms, 1000u);
  auto bare = ParseConfig(Replace(
      base, "CDC", "cdc: {metrics_url: \"http://localhost:9\", lag_warn_s: 30, timeout_ms: 200}"));
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ((*bare)->cdc.path, "/metrics");
  EXPECT_EQ((*bare)->cdc.lag_warn_s, 30u);
  EXPECT_EQ((*bare)->cdc.timeout_ms, 200u);
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {lag_warn_s: 5}")),
            "cdc.metrics_url: is required (http://host:port/metrics of profile-migrator follow)");
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: 127.0.0.1:9904}")),
            "cdc.metrics_url: must start with http://");
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: \"http://127.0.0.1/metrics\"}")),
            "cdc.metrics_url: must be host:port");
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: \"http://127.0.0.1:0/metrics\"}")),
            "cdc.metrics_url: port must be 1..65535");
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: \"http://127.0.0.1:1/m?x=1\"}")),
            "cdc.metrics_url: path must be plain (no query, fragment or whitespace)");
  EXPECT_EQ(
      ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: \"http://127.0.0.1:1/\", lag_warn_s: 0}")),
      "cdc.lag_warn_s: must be between 1 and 86400");
  EXPECT_EQ(ErrorOf(Replace(base, "CDC", "cdc: {metrics_url: \"http://127.0.0.1:1/\", lag: 5}"))
                .rfind("cdc.lag: unknown key (allowed: metrics_url|lag_warn_s|interval_ms|", 0),
            0u);
}

TEST(Config, DeployExampleParsesWithEveryKey) {
  // deploy/proxy.example.yaml documents every key; it must stay valid.
  const char* src = std::getenv("FICUS_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(std::string(src) + "/deploy/proxy.example.yaml");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = ParseConfig(ss.str(), "/etc/ficus");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->routes.size(), 2u);
  EXPECT_EQ((*cfg)->routes[0].mode, Mode::kShadow);
  EXPECT_EQ((*cfg)->admin_token_file, "/etc/ficus/admin.token");
  EXPECT_TRUE((*cfg)->routes[0].fallback.enabled);
  const Backend* legacy = (*cfg)->FindBackend("legacy");
  ASSERT_NE(legacy, nullptr);
  EXPECT_EQ(legacy->idle_timeout_ms, 60000u);
  EXPECT_EQ(legacy->total_timeout_ms, 0u);
  EXPECT_EQ((*cfg)->routes[0].compare.max_bytes, 1048576u);
  EXPECT_EQ((*cfg)->cdc.metrics_url, "http://127.0.0.1:9904/metrics");
  EXPECT_EQ((*cfg)->cdc.lag_warn_s, 5u);
}

TEST(Config, PerPhaseTimeoutsAndCompareLimit) {
  const std::string base = R"(
backends:
  legacy: {url: "http://127.0.0.1:1", idle_timeout_ms: 1500, total_timeout_ms: 0}
routes:
  - {name: r, match: {path: /r}, mode: legacy, compare: {max_bytes: 4096}}
)";
  auto cfg = ParseConfig(base);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->FindBackend("legacy")->idle_timeout_ms, 1500u);
  EXPECT_EQ((*cfg)->routes[0].compare.max_bytes, 4096u);
  EXPECT_TRUE((*cfg)->routes[0].upgrade);  // tunnels allowed unless refused
  auto refused = ParseConfig(Replace(base, "mode: legacy,", "mode: legacy, upgrade: false,"));
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_FALSE((*refused)->routes[0].upgrade);
  EXPECT_EQ(ErrorOf(Replace(base, "idle_timeout_ms: 1500", "idle_timeout_ms: 0")),
            "backends.legacy.idle_timeout_ms: must be between 1 and 3600000");
  EXPECT_EQ(ErrorOf(Replace(base, "total_timeout_ms: 0", "total_timeout_ms: -1")),
            "backends.legacy.total_timeout_ms: must be an unsigned integer");
  EXPECT_EQ(ErrorOf(Replace(base, "max_bytes: 4096", "max_bytes: lots")),
            "routes[0].compare.max_bytes: must be an unsigned integer");
}

TEST(Config, ForwardedTrustedHopsAreValidatedNamingTheItem) {
  const std::string base = R"(
backends: {legacy: {url: "http://127.0.0.1:1"}}
forwarded: {trusted: [10.0.0.0/8, "::1"], forwarded: true}
)";
  auto cfg = ParseConfig(base);
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->forwarded.trusted.size(), 2u);
  EXPECT_TRUE((*cfg)->forwarded.forwarded);
  EXPECT_TRUE((*cfg)->forwarded.x_forwarded);
  auto defaults = ParseConfig(R"(backends: {legacy: {url: "http://127.0.0.1:1"}})");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE((*defaults)->forwarded.trusted.empty());  // trust nobody
  EXPECT_FALSE((*defaults)->forwarded.forwarded);
  EXPECT_EQ(ErrorOf(Replace(base, "10.0.0.0/8", "10.0.0.1/8")),
            "forwarded.trusted[0]: host bits set past the prefix length in '10.0.0.1/8'");
  EXPECT_EQ(ErrorOf(Replace(base, "\"::1\"", "nope")),
            "forwarded.trusted[1]: must be an IP address or CIDR (10.0.0.0/8, ::1/128), got "
            "'nope'");
  EXPECT_EQ(ErrorOf(Replace(base, "forwarded: true", "forwarded: yes")),
            "forwarded.forwarded: must be true or false");
  EXPECT_EQ(ErrorOf(Replace(base, "trusted:", "trust:")),
            "forwarded.trust: unknown key (allowed: trusted|x_forwarded|forwarded)");
}

TEST(Config, TimeoutsGlobalThenBackendThenRoute) {
  const std::string base = R"(
timeouts: {connect_timeout_ms: 500, idle_timeout_ms: 9000, send_timeout_ms: 7000}
backends:
  legacy: {url: "http://127.0.0.1:1", idle_timeout_ms: 1500}
  modern: {url: "http://127.0.0.1:2"}
routes:
  - name: slow-report
    match: {path: /r}
    mode: shadow
    timeouts: {response_timeout_ms: 120000, idle_timeout_ms: 300000, total_timeout_ms: 0}
)";
  auto cfg = ParseConfig(base);
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Backend& legacy = *(*cfg)->FindBackend("legacy");
  const Backend& modern = *(*cfg)->FindBackend("modern");
  EXPECT_EQ(legacy.connect_timeout_ms, 500u);     // global
  EXPECT_EQ(legacy.idle_timeout_ms, 1500u);       // backend wins over global
  EXPECT_EQ(legacy.send_timeout_ms, 7000u);       // global
  EXPECT_EQ(legacy.response_timeout_ms, 30000u);  // built-in default
  EXPECT_EQ(modern.idle_timeout_ms, 9000u);
  const Route& r = (*cfg)->routes[0];
  ASSERT_TRUE(r.timeouts.any());
  const Backend on_route = WithTimeouts(legacy, r.timeouts);  // route wins over backend
  EXPECT_EQ(on_route.response_timeout_ms, 120000u);
  EXPECT_EQ(on_route.idle_timeout_ms, 300000u);
  EXPECT_EQ(on_route.connect_timeout_ms, 500u);  // not overridden: the backend's
  EXPECT_EQ(on_route.send_timeout_ms, 7000u);
  EXPECT_EQ(on_route.total_timeout_ms, 0u);
  EXPECT_FALSE(ParseConfig(R"(backends: {legacy: {url: "http://127.0.0.1:1"}})")
                   .value()
                   ->FindBackend("legacy")
                   ->send_timeout_ms);  // 0: the response timeout bounds writes
  EXPECT_EQ(ErrorOf(Replace(base, "response_timeout_ms: 120000", "response_timeout_ms: 0")),
            "routes[0].timeouts.response_timeout_ms: must be between 1 and 3600000");
  EXPECT_EQ(ErrorOf(Replace(base, "response_timeout_ms: 120000", "read_timeout_ms: 5")),
            "routes[0].timeouts.read_timeout_ms: unknown key (allowed: connect_timeout_ms|"
            "response_timeout_ms|idle_timeout_ms|send_timeout_ms|total_timeout_ms)");
  EXPECT_EQ(ErrorOf(Replace(base, "send_timeout_ms: 7000", "send_timeout_ms: soon")),
            "timeouts.send_timeout_ms: must be an unsigned integer");
  EXPECT_EQ(ErrorOf(Replace(base, "idle_timeout_ms: 1500", "send_timeout_ms: 99999999")),
            "backends.legacy.send_timeout_ms: must be between 1 and 3600000");
  EXPECT_EQ(ErrorOf(Replace(base, "timeouts: {connect", "timeouts: {max_idle: 1, connect")),
            "timeouts.max_idle: unknown key (allowed: connect_timeout_ms|response_timeout_ms|"
            "idle_timeout_ms|send_timeout_ms|total_timeout_ms)");
}

}  // namespace
}  // namespace ficus::proxy
