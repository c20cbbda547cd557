#include "api/live_config.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace ficus::proxy {
namespace {

std::string Yaml(const char* mode) {
  return std::string(R"(
backends:
  legacy: {url: http://127.0.0.1:1}
  modern: {url: http://127.0.0.1:2}
cohorts:
  users: {key: [header:X-User-Id], salt: "s"}
routes:
  - name: r
    match: {path: /r}
    cohort: users
    mode: )") +
         mode + "\n";
}

// A config source over a string; Changed() while `changed` is set.
class TextSource final : public ConfigSource {
 public:
  std::string text = Yaml("shadow");
  bool changed = false;
  int loads = 0;
  Result<std::shared_ptr<const Config>> Load() override {
    ++loads;
    changed = false;
    return ParseConfig(text);
  }
  [[nodiscard]] bool Changed() const override { return changed; }
  [[nodiscard]] const std::string& name() const override { return name_; }

 private:
  std::string name_ = "test.yaml";
};

class FakeFleet final : public FleetControl {
 public:
  ControlState state;
  std::vector<std::pair<std::string, FleetTrip>> published;
  [[nodiscard]] ControlState State() const override { return state; }
  Status PublishTrip(const std::string& route, const FleetTrip& trip) override {
    published.emplace_back(route, trip);
    return {};
  }
  Status ClearTrips(const std::vector<std::string>&) override { return {}; }
  [[nodiscard]] std::vector<ReplicaReport> Replicas() const override { return {}; }
  [[nodiscard]] bool connected() const override { return true; }
  [[nodiscard]] int64_t down_since_ms() const override { return 0; }
};

class LiveConfigTest : public ::testing::Test {
 protected:
  LiveConfigTest() : proxy_(metrics_, ProxyHooks{}, clock_, access_log_) {}

  LiveConfig& Make() {
    auto first = source_.Load();
    EXPECT_TRUE(first) << first.error().message;
    live_ = std::make_unique<LiveConfig>(source_, *first, control_, metrics_, ioc_.get_executor());
    return *live_;
  }
  uint64_t Generation() const { return proxy_.runtime()->generation; }
  Mode RunningMode() const { return proxy_.runtime()->config->routes.at(0).mode; }
  uint64_t Reloads(const char* result) {
    return metrics_.GetCounter("ficus_proxy_config_reloads_total", "", {{"result", result}})
        .Value();
  }

  boost::asio::io_context ioc_;
  MetricsRegistry metrics_;
  ManualClock clock_;
  AccessLog access_log_;
  Proxy proxy_;
  ControlPlane control_;
  TextSource source_;
  std::unique_ptr<LiveConfig> live_;
};

TEST_F(LiveConfigTest, StartAppliesTheFirstConfigAsGenerationOne) {
  auto& live = Make();
  ASSERT_TRUE(live.Start(proxy_));
  EXPECT_EQ(Generation(), 1u);
  EXPECT_EQ(RunningMode(), Mode::kShadow);
  EXPECT_EQ(live.Configured()->routes.at(0).mode, Mode::kShadow);
}

TEST_F(LiveConfigTest, ARejectedReloadChangesNothing) {
  auto& live = Make();
  ASSERT_TRUE(live.Start(proxy_));
  source_.text = Yaml("sideways");
  auto st = live.Reload("test");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("mode"), std::string::npos) << st.error().message;
  EXPECT_EQ(Generation(), 1u);
  EXPECT_EQ(live.Configured()->routes.at(0).mode, Mode::kShadow);
  EXPECT_EQ(Reloads("rejected"), 1u);
  source_.text = Yaml("full");
  ASSERT_TRUE(live.Reload("test"));
  EXPECT_EQ(Generation(), 2u);
  EXPECT_EQ(RunningMode(), Mode::kFull);
  EXPECT_EQ(live.Configured()->routes.at(0).mode, Mode::kFull);
  EXPECT_EQ(Reloads("ok"), 1u);
}

TEST_F(LiveConfigTest, PollSourceReloadsOnlyWhenTheSourceChanged) {
  auto& live = Make();
  ASSERT_TRUE(live.Start(proxy_));
  const int loads = source_.loads;
  live.PollSource();
  EXPECT_EQ(source_.loads, loads);
  source_.text = Yaml("canary");
  source_.changed = true;
  live.PollSource();
  EXPECT_EQ(source_.loads, loads + 1);
  EXPECT_EQ(RunningMode(), Mode::kCanary);
}

TEST_F(LiveConfigTest, ATripIsAppliedOnTheControlLoopAndPublishedToTheFleet) {
  FakeFleet fleet;
  source_.text = Yaml("full");
  auto& live = Make();
  live.AttachFleet(&fleet, "replica-a");
  ASSERT_TRUE(live.Start(proxy_));
  const uint64_t gen = Generation();
  ASSERT_TRUE(control_.Trip("r", 1, "errors"));
  live.OnTrip("r", "errors");
  EXPECT_EQ(Generation(), gen);  // posted, not run inline
  ioc_.run();
  EXPECT_EQ(Generation(), gen + 1);
  EXPECT_EQ(RunningMode(), Mode::kShadow);                       // fallen back: served by legacy
  EXPECT_EQ(live.Configured()->routes.at(0).mode, Mode::kFull);  // as configured
  ASSERT_EQ(fleet.published.size(), 1u);
  EXPECT_EQ(fleet.published[0].first, "r");
  EXPECT_EQ(fleet.published[0].second.replica, "replica-a");
  EXPECT_EQ(fleet.published[0].second.reason, "errors");
}

TEST_F(LiveConfigTest, TheFleetsRouteStateAndTripsAreFollowed) {
  FakeFleet fleet;
  RouteSetting canary;
  canary.mode = Mode::kCanary;
  canary.percent_bp = 500;
  fleet.state.routes["r"] = canary;
  auto& live = Make();
  live.AttachFleet(&fleet, "replica-b");
  ASSERT_TRUE(live.Start(proxy_));
  EXPECT_EQ(RunningMode(), Mode::kCanary);  // the store's setting over the file's shadow
  EXPECT_EQ(proxy_.runtime()->config->routes.at(0).percent_bp, 500u);
  fleet.state.trips["r"] = FleetTrip{7, "modern down", "replica-a", 0};
  fleet.state.revision = 3;
  live.OnFleetChange();
  ioc_.run();
  EXPECT_TRUE(control_.Tripped("r"));
  EXPECT_EQ(RunningMode(), Mode::kShadow);
  fleet.state.trips.clear();  // an operator reset it on another replica
  live.OnFleetChange();
  ioc_.restart();
  ioc_.run();
  EXPECT_FALSE(control_.Tripped("r"));
  EXPECT_EQ(RunningMode(), Mode::kCanary);
}

}  // namespace
}  // namespace ficus::proxy
