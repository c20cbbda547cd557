#include "api/status_metrics.h"

#include <gtest/gtest.h>

#include "domain/config.h"

namespace ficus::proxy {
namespace {

const char* kTwoRoutes = R"(
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082}
routes:
  - name: a
    match: {method: GET, path: /a}
    mode: shadow
  - name: b
    match: {method: GET, path: /b}
    mode: shadow
)";

const char* kOneRoute = R"(
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082}
routes:
  - name: b
    match: {method: GET, path: /b}
    mode: shadow
)";

// A replay_log with fixed figures: the metrics only read Stats().
class FixedReplayLog final : public ReplayLog {
 public:
  void Append(ReplayRecord, bool, Done done) override { done(1); }
  Status Settle(uint64_t) override { return {}; }
  Status Release(uint64_t) override { return {}; }
  [[nodiscard]] uint64_t Backlog(const std::string&, const std::string&) const override {
    return 0;
  }
  [[nodiscard]] uint64_t Queued(const std::string&, const std::string&) const override { return 0; }
  [[nodiscard]] uint64_t PendingFor(const std::string&, const std::string&) const override {
    return 0;
  }
  [[nodiscard]] ReplayLogStats Stats() const override { return stats; }
  [[nodiscard]] bool Full() const override { return stats.full; }
  ReplayLogStats stats;
};

std::shared_ptr<const Config> Parse(const char* yaml) {
  auto cfg = ParseConfig(yaml);
  EXPECT_TRUE(cfg.has_value()) << cfg.error().message;
  return *cfg;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(StatusMetrics, RouteTotalsAreCountersThatFollowTheRunningConfig) {
  ControlPlane cp;
  std::shared_ptr<const Config> running = Parse(kTwoRoutes);
  ASSERT_TRUE(cp.Configure(*running));
  MetricsRegistry metrics;
  AddRouteMetrics(metrics, cp, [&running] { return running; });
  const std::string same = R"({"ret":200})";
  EXPECT_FALSE(cp.Compare({"a", "id1", "u1", "GET", "/a", {200, same}, {200, same}}));
  EXPECT_TRUE(cp.Compare({"a", "id2", "u1", "GET", "/a", {200, same}, {200, R"({"ret":500})"}}));

  std::string text = metrics.Render();
  EXPECT_TRUE(Has(text, "# TYPE ficus_proxy_compared_total counter\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_compared_total{route=\"a\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "# TYPE ficus_proxy_mismatches_total counter\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_mismatches_total{route=\"a\"} 1\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_not_compared_total{route=\"b\",reason=\"too_large\"} 0\n"))
      << text;
  EXPECT_TRUE(Has(text, "# TYPE ficus_proxy_fallback_active gauge\n")) << text;

  running = Parse(kOneRoute);  // route a leaves the config, and /metrics
  ASSERT_TRUE(cp.Configure(*running));
  text = metrics.Render();
  EXPECT_FALSE(Has(text, "route=\"a\"")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_compared_total{route=\"b\"} 0\n")) << text;
}

TEST(StatusMetrics, ReplayEventsAreCountersAndTheBacklogIsAGauge) {
  FixedReplayLog replay_log;
  replay_log.stats.backlog = 3;
  replay_log.stats.delivered = 7;
  replay_log.stats.retries = 2;
  replay_log.stats.backlog_by_target[{"b", "legacy"}] = 3;
  std::shared_ptr<const Config> running = Parse(kOneRoute);
  MetricsRegistry metrics;
  AddReplayMetrics(metrics, replay_log, [&running] { return running; });
  const std::string text = metrics.Render();
  EXPECT_TRUE(Has(text, "# TYPE ficus_proxy_replay_events_total counter\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_replay_events_total{event=\"delivered\"} 7\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_replay_events_total{event=\"retries\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "# TYPE ficus_proxy_replay_pending gauge\nficus_proxy_replay_pending 3\n"))
      << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_replay_backlog{route=\"b\",backend=\"legacy\"} 3\n")) << text;
  EXPECT_TRUE(Has(text, "ficus_proxy_replay_backlog{route=\"b\",backend=\"modern\"} 0\n")) << text;
}

TEST(StatusMetrics, NoFollowerSeriesWhileCdcIsNotConfigured) {
  FollowerMonitor follower;
  MetricsRegistry metrics;
  AddFollowerMetrics(metrics, follower);
  const std::string text = metrics.Render();
  EXPECT_FALSE(Has(text, "\nficus_proxy_cdc_follower_up")) << text;
  EXPECT_FALSE(Has(text, "\nficus_proxy_cdc_lagging")) << text;
}

}  // namespace
}  // namespace ficus::proxy
