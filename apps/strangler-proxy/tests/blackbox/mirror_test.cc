// Black-box: a mirror target that is dead, or answers only after 2 s, leaves
// the primary's status and latency unchanged. Three routes in one proxy,
// requests interleaved (base, dead, slow, base, ...) so machine noise hits
// all three alike:
//   /base  mode legacy: no mirror (the reference latency)
//   /dead  mode shadow, modern backend = a port nobody listens on
//   /slow  mode shadow, modern backend = an upstream that answers after 2 s
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::duration<double, std::milli>;

constexpr const char* kYaml = R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  slow: {url: http://127.0.0.1:${slow}}
  dead: {url: http://127.0.0.1:${DEAD}}
mirror: {timeout_ms: 5000, max_inflight: 1024}
# Mirror isolation only: no persist-before-answer of legacy-served writes
# (its group-committed fdatasync is a cost of its own, see CONTROL_PLANE.md).
replay: {durable_to_modern: false}
routes:
  - name: base
    match: {prefix: /base}
    mode: legacy
  - name: dead
    match: {prefix: /dead}
    mode: shadow
    backends: {modern: dead}
  - name: slow
    match: {prefix: /slow}
    mode: shadow
    backends: {modern: slow}
)";

TEST(Mirror, DeadOrTwoSecondMirrorLeavesPrimaryStatusAndLatencyUnchanged) {
  Stack stack;
  auto& legacy = stack.StartUpstream("legacy");
  auto& slow = stack.StartUpstream("slow", {"--delay-ms", "2000"});
  stack.StartProxy(kYaml);
  (void)legacy;

  constexpr int kRounds = 150;
  std::vector<double> lat[3];
  int bad_status[3] = {0, 0, 0};
  const char* paths[3] = {"/base", "/dead", "/slow"};
  Client c(stack.port());
  ASSERT_TRUE(c.connected());
  // Warm-up: keep-alive connections to legacy exist for all three routes.
  for (int i = 0; i < 10; ++i) {
    for (auto* p : paths) {
      c.RoundTrip(std::string("POST ") + p + " HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    }
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    for (int k = 0; k < 3; ++k) {
      const int which = (i + k) % 3;  // rotate the order too
      const auto t0 = std::chrono::steady_clock::now();
      auto r = c.RoundTrip(std::string("POST ") + paths[which] +
                           " HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
      lat[which].push_back(Ms(std::chrono::steady_clock::now() - t0).count());
      if (r.status != 200) ++bad_status[which];
    }
  }
  const double total_ms = Ms(std::chrono::steady_clock::now() - start).count();

  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(bad_status[k], 0) << paths[k] << ": primary status changed";
    RecordProperty(std::string(paths[k] + 1) + "_p50_ms", std::to_string(Percentile(lat[k], 50)));
    RecordProperty(std::string(paths[k] + 1) + "_p99_ms", std::to_string(Percentile(lat[k], 99)));
    std::printf("%-6s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", paths[k],
                Percentile(lat[k], 50), Percentile(lat[k], 90), Percentile(lat[k], 99),
                Percentile(lat[k], 100));
  }
  std::printf("%d rounds in %.0f ms\n", kRounds, total_ms);
  const double base50 = Percentile(lat[0], 50), base90 = Percentile(lat[0], 90);
  for (int k = 1; k < 3; ++k) {
    // Same distribution as the no-mirror route, within noise of a shared
    // 2-core machine (sub-millisecond latencies: allow 1.5x + 1 ms).
    EXPECT_LT(Percentile(lat[k], 50), base50 * 1.5 + 1.0) << paths[k];
    EXPECT_LT(Percentile(lat[k], 90), base90 * 1.5 + 2.0) << paths[k];
    EXPECT_LT(Percentile(lat[k], 100), 500.0) << paths[k] << ": one request was held back";
  }

  // The mirrors really happened: dead ones failed to connect, and the
  // circuit breaker then dropped the rest as "unhealthy" without a connect()
  // each (every mirror is accounted for); slow ones are still in flight
  // (2 s), then complete ok.
  const double dead_errors =
      stack.Metric(R"(ficus_proxy_mirror_total{route="dead",outcome="connect_error"})");
  const double dead_blocked =
      stack.Metric(R"(ficus_proxy_mirror_total{route="dead",outcome="unhealthy"})");
  EXPECT_GE(dead_errors, 1);
  EXPECT_EQ(dead_errors + dead_blocked, kRounds + 10);
  EXPECT_LT(dead_errors, kRounds / 2) << "the breaker did not hold back connects";
  const auto until = std::chrono::steady_clock::now() + 6s;
  while (stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="ok"})") < kRounds + 10 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="ok"})"), kRounds + 10);
  EXPECT_EQ(slow.Requests().size(), static_cast<std::size_t>(kRounds + 10));
}

TEST(Mirror, InFlightBoundDropsAndCountsInsteadOfQueueing) {
  Stack stack;
  stack.StartUpstream("legacy");
  stack.StartUpstream("slow", {"--delay-ms", "2000"});
  std::string yaml = kYaml;
  yaml.replace(yaml.find("max_inflight: 1024"), 18, "max_inflight: 5");
  stack.StartProxy(yaml);
  Client c(stack.port());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    auto r = c.RoundTrip("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    ASSERT_EQ(r.status, 200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="overflow"})"), 15);
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_mirror_inflight{route="slow"})"), 5);
}

TEST(Mirror, MirrorTimeoutIsItsOwn) {
  Stack stack;
  stack.StartUpstream("legacy");
  stack.StartUpstream("slow", {"--delay-ms", "2000"});
  std::string yaml = kYaml;
  yaml.replace(yaml.find("timeout_ms: 5000"), 16, "timeout_ms: 300");
  stack.StartProxy(yaml);
  auto r = stack.Request("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_EQ(r.status, 200);
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="timeout"})") < 1 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="timeout"})"), 1);
}

TEST(Mirror, ActiveHealthCheckMarksATargetDownAndItGetsNoMirrors) {
  Stack stack;
  stack.StartUpstream("legacy");
  auto& sick = stack.StartUpstream("slow", {"--status", "503"});  // /healthz answers 503
  std::string yaml = kYaml;
  yaml.replace(yaml.find("slow: {url: http://127.0.0.1:${slow}}"), 37,
               "slow: {url: http://127.0.0.1:${slow}, health: /healthz, health_interval_ms: 100}");
  stack.StartProxy(yaml);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (stack.Metric(R"(ficus_proxy_backend_up{backend="slow"})") != 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(stack.Metric(R"(ficus_proxy_backend_up{backend="slow"})"), 0);
  EXPECT_NE(stack.Admin("/healthz").body.find(R"("slow":"down")"), std::string::npos)
      << stack.Admin("/healthz").body;
  const auto before = sick.Requests().size();  // health checks only
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(stack.Request("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}").status,
              200);
  }
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_mirror_total{route="slow",outcome="unhealthy"})"), 10);
  for (const auto& r : sick.Requests()) {
    EXPECT_EQ(r.at("target").as_string(), "/healthz") << "a mirror reached the sick target";
  }
  EXPECT_GE(sick.Requests().size(), before);
}

// A primary answer over the route's compare.max_bytes streams to the client
// whole and is counted as "not compared: too large" (admin and /metrics),
// never a 502 and never a mismatch.
TEST(Mirror, AnswerOverCompareMaxBytesIsCountedNotComparedTooLarge) {
  Stack stack;
  stack.StartUpstream("legacy");
  stack.StartUpstream("modern");
  stack.StartProxy(R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}}
replay: {durable_to_modern: false}
routes:
  - {name: small, match: {prefix: /small}, mode: shadow, compare: {max_bytes: 1048576}}
  - {name: big, match: {prefix: /big}, mode: shadow, compare: {max_bytes: 16}}
)");
  Client c(stack.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    for (const char* p : {"/big/x", "/small/x"}) {
      auto r = c.RoundTrip(std::string("GET ") + p + " HTTP/1.1\r\nHost: t\r\n\r\n");
      ASSERT_EQ(r.status, 200) << r.raw;
      EXPECT_GT(r.body.size(), 16u);  // the echo answer, whole
    }
  }
  const std::string big = R"(ficus_proxy_not_compared_total{route="big",reason="too_large"})";
  const std::string small = R"(ficus_proxy_not_compared_total{route="small",reason="too_large"})";
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (stack.Metric(big) < 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(stack.Metric(big), 3);
  EXPECT_EQ(stack.Metric(small), 0);
  auto route = stack.Admin("/admin/routes/big").Json();
  ASSERT_TRUE(route.is_object()) << stack.Admin("/admin/routes/big").raw;
  const auto& mm = route.at("mismatch");
  EXPECT_EQ(mm.at("too_large").to_number<int64_t>(), 3);
  EXPECT_EQ(mm.at("compared").to_number<int64_t>(), 0);
  EXPECT_EQ(mm.at("count").to_number<int64_t>(), 0);
  auto other = stack.Admin("/admin/routes/small").Json();
  EXPECT_EQ(other.at("mismatch").at("too_large").to_number<int64_t>(), 0);
  EXPECT_EQ(other.at("mismatch").at("compared").to_number<int64_t>(), 3);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
