#include "domain/control_state.h"

#include <gtest/gtest.h>

#include "domain/fleet_report.h"
#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseConfig(yaml);
  return r ? "<ok>" : r.error().message;
}

TEST(ControlConfig, EtcdStoreKeysAreValidatedByPath) {
  const std::string base = testing::kValidYaml;
  auto ok = ParseConfig(base +
                        "control: {store: etcd, endpoints: [127.0.0.1:2379, "
                        "'http://127.0.0.1:2380'], prefix: /f, replica_id: a}\n");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->control.store, Config::Control::Store::kEtcd);
  EXPECT_EQ((*ok)->control.prefix, "/f/");
  EXPECT_EQ((*ok)->control.endpoints.size(), 2u);
  EXPECT_EQ((*ParseConfig(base))->control.store, Config::Control::Store::kFile);
  EXPECT_EQ(ErrorOf(base + "control: {store: zookeeper}\n"),
            "control.store: must be file or etcd, got 'zookeeper'");
  EXPECT_EQ(ErrorOf(base + "control: {store: etcd}\n").rfind("control.endpoints:", 0), 0u);
  EXPECT_EQ(ErrorOf(base + "control: {store: etcd, endpoints: [nohost]}\n")
                .rfind("control.endpoints[0]", 0),
            0u);
  EXPECT_EQ(ErrorOf(base + "control: {store: etcd, endpoints: [h:1], tls: {ca: x}}\n")
                .rfind("control.tls.ca: unknown key", 0),
            0u);
}

TEST(ControlConfig, TlsAndAuthKeys) {
  const std::string base = std::string(testing::kValidYaml) + "control: {store: etcd, ";
  auto ok = ParseConfig(base +
                        "endpoints: ['https://127.0.0.1:2379'], tls: {ca_file: /p/ca.pem, "
                        "cert_file: c.pem, key_file: /p/c.key}, auth: {user: proxy, "
                        "password_file: /p/pw}}\n");
  ASSERT_TRUE(ok) << ok.error().message;
  const auto& c = (*ok)->control;
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_EQ(c.tls.ca_file, "/p/ca.pem");
  EXPECT_EQ(c.tls.key_file, "/p/c.key");
  EXPECT_EQ(c.auth_user, "proxy");
  EXPECT_EQ(c.auth_password_file, "/p/pw");
  EXPECT_FALSE((*ParseConfig(base + "endpoints: [h:1]}\n"))->control.tls.enabled);
  EXPECT_TRUE((*ParseConfig(base + "endpoints: [h:1], tls: {}}\n"))->control.tls.enabled);
  EXPECT_EQ(ErrorOf(base + "endpoints: ['https://h:1']}\n").rfind("control.endpoints[0]: https", 0),
            0u);
  EXPECT_EQ(ErrorOf(base + "endpoints: ['http://h:1'], tls: {}}\n")
                .rfind("control.endpoints[0]: http://", 0),
            0u);
  EXPECT_EQ(
      ErrorOf(base + "endpoints: [h:1], tls: {cert_file: c}}\n").rfind("control.tls.key_file:", 0),
      0u);
  EXPECT_EQ(ErrorOf(base + "endpoints: [h:1], auth: {user: u}}\n")
                .rfind("control.auth.password_file: required", 0),
            0u);
  EXPECT_EQ(ErrorOf(base + "endpoints: [h:1], auth: {password_file: p}}\n")
                .rfind("control.auth.user: required", 0),
            0u);
  EXPECT_EQ(ErrorOf(base + "endpoints: [h:1], auth: {user: u, password: p}}\n")
                .rfind("control.auth.password: unknown key", 0),
            0u);
}

TEST(ControlState, SettingsRoundTripAndBadValuesNameTheKey) {
  RouteSetting s;
  s.mode = Mode::kCanary;
  s.percent_bp = 1250;
  s.paused = true;
  s.actor = "ops";
  s.replica = "b";
  s.at_ms = 42;
  auto d = DecodeRouteSetting(EncodeRouteSetting(s), "/ficus/routes/r");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->mode, Mode::kCanary);
  EXPECT_EQ(d->percent_bp, 1250u);
  EXPECT_TRUE(d->paused);
  EXPECT_EQ(d->actor, "ops");
  EXPECT_EQ(d->replica, "b");
  auto bad = DecodeRouteSetting(R"({"mode":"sideways"})", "/ficus/routes/r");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "/ficus/routes/r.mode: unknown mode 'sideways'");
  EXPECT_FALSE(DecodeRouteSetting(R"({"mode":"full","percent_bp":10001})", "k"));
  EXPECT_FALSE(DecodeRouteSetting("[", "k"));
  auto t = DecodeFleetTrip(EncodeFleetTrip({7, "errors 0.5 > 0.05", "c", 0}), "k");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->since_ms, 7);
  EXPECT_EQ(t->replica, "c");
}

TEST(ControlState, OverlayOverridesOnlyRoutesWithASetting) {
  auto file = ParseConfig(testing::kValidYaml);
  ASSERT_TRUE(file);
  ControlState none;
  EXPECT_EQ(OverlayControlState(*file, none).get(), file->get());  // nothing differs: same object
  ControlState s;
  const std::string r0 = (*file)->routes[0].name;
  RouteSetting set = CurrentSetting((*file)->routes[0], s);
  EXPECT_EQ(set.mode, (*file)->routes[0].mode);
  RouteChange ch;
  ch.mode = Mode::kFull;
  set = ApplyChange(set, ch);
  EXPECT_EQ(set.percent_bp, (*file)->routes[0].percent_bp);  // left alone
  s.routes[r0] = set;
  s.routes["no-such-route"] = set;  // ignored
  auto over = OverlayControlState(*file, s);
  EXPECT_EQ(over->routes[0].mode, Mode::kFull);
  EXPECT_EQ(over->routes[1].mode, (*file)->routes[1].mode);
  EXPECT_EQ((*file)->routes[0].mode, Mode::kShadow);  // the file's config is not touched
  EXPECT_EQ(CurrentSetting((*file)->routes[0], s).mode, Mode::kFull);
}

TEST(FleetReport, RoundTripAndTotals) {
  ReplicaReport a;
  a.id = "a";
  a.routes["r"].backlog_to_legacy = 3;
  a.routes["r"].legacy_rps = 10.5;
  ReplicaReport b;
  b.id = "b";
  b.routes["r"].backlog_to_legacy = 4;
  b.routes["r"].modern_requests = 9;
  b.routes["other"].backlog_to_modern = 100;
  auto da = DecodeReplicaReport(EncodeReplicaReport(a), "k");
  auto db = DecodeReplicaReport(EncodeReplicaReport(b), "k");
  ASSERT_TRUE(da && db);
  const auto t = FleetTotal({*da, *db}, "r");
  EXPECT_EQ(t.backlog_to_legacy, 7u);
  EXPECT_EQ(t.backlog_to_modern, 0u);
  EXPECT_EQ(t.modern_requests, 9u);
  EXPECT_DOUBLE_EQ(t.legacy_rps, 10.5);
  EXPECT_FALSE(DecodeReplicaReport(R"({"routes":{"r":5}})", "k"));
}

TEST(FleetReport, CumulativeCountersTravelAndSumWithoutTheAskingReplica) {
  ReplicaReport a;
  a.id = "a";
  auto& x = a.routes["r"];
  x.served = 100;
  x.legacy_answers = 60;
  x.legacy_answer_errors = 1;
  x.modern_answers = 90;
  x.modern_answer_errors = 7;
  x.skipped = 3;
  x.compared = 50;
  ReplicaReport b = a;
  b.id = "b";
  auto da = DecodeReplicaReport(EncodeReplicaReport(a), "k");
  auto db = DecodeReplicaReport(EncodeReplicaReport(b), "k");
  ASSERT_TRUE(da && db);
  EXPECT_EQ(da->routes.at("r").modern_answer_errors, 7u);
  const auto all = FleetTotal({*da, *db}, "r");
  EXPECT_EQ(all.served, 200u);
  EXPECT_EQ(all.modern_answers, 180u);
  EXPECT_EQ(all.modern_answer_errors, 14u);
  EXPECT_EQ(all.legacy_answer_errors, 2u);
  EXPECT_EQ(all.skipped, 6u);
  EXPECT_EQ(all.compared, 100u);
  const auto others = FleetTotal({*da, *db}, "r", "a");
  EXPECT_EQ(others.served, 100u);
  EXPECT_EQ(others.modern_answer_errors, 7u);
}

TEST(FleetReport, LatencyHistogramsMergeToThePercentilesOfAllAnswers) {
  ManualClock clock(FromUnixMicros(1'000'000'000));
  TrafficWindow a(clock), b(clock), all(clock);
  // Replica a: fast (1-3 ms); replica b: slow (40-80 ms) with a tail at 900 ms.
  for (int i = 0; i < 300; ++i) {
    const int64_t us = 1000 + (i % 3) * 1000;
    a.Record(us, false);
    all.Record(us, false);
  }
  for (int i = 0; i < 100; ++i) {
    const int64_t us = i < 95 ? 40'000 + (i % 5) * 10'000 : 900'000;
    b.Record(us, false);
    all.Record(us, false);
  }
  ReplicaReport ra, rb;
  ra.routes["r"].legacy_latency = a.Snapshot().latency;
  rb.routes["r"].legacy_latency = b.Snapshot().latency;
  auto da = DecodeReplicaReport(EncodeReplicaReport(ra), "k");
  auto db = DecodeReplicaReport(EncodeReplicaReport(rb), "k");
  ASSERT_TRUE(da && db);
  const auto t = FleetTotal({*da, *db}, "r");
  const auto whole = all.Snapshot();
  for (double q : {0.5, 0.75, 0.9, 0.99}) {
    EXPECT_EQ(TrafficWindow::PercentileMs(t.legacy_latency, q),
              TrafficWindow::PercentileMs(whole.latency, q))
        << q;
  }
  EXPECT_EQ(TrafficWindow::PercentileMs(t.legacy_latency, 0.99), whole.p99_ms);
  EXPECT_EQ(TrafficWindow::PercentileMs(t.legacy_latency, 0.5), whole.p50_ms);
  // p50 of all is a fast answer (300 of 400 are), p99 is b's tail: neither
  // replica's own p50/p99 nor their mean is.
  EXPECT_LT(*whole.p50_ms, 4.0);
  EXPECT_GT(*whole.p99_ms, 800.0);
  EXPECT_FALSE(TrafficWindow::PercentileMs(t.modern_latency, 0.99).has_value());
  // Malformed histograms are refused naming the key.
  auto bad = DecodeReplicaReport(R"({"routes":{"r":{"legacy_latency":[[5,1],[3,1]]}}})", "k");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("k.routes.r.legacy_latency"), std::string::npos);
  EXPECT_FALSE(DecodeReplicaReport(R"({"routes":{"r":{"modern_latency":[[9999,1]]}}})", "k"));
}

}  // namespace
}  // namespace ficus::proxy
