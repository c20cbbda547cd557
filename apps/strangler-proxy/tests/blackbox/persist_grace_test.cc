// Black-box: replay.persist_grace_ms. A write served by legacy in shadow is
// persisted for modern before its answer (replay.durable_to_modern) unless
// its copy landed first; the grace waits a moment for the copy instead of
// writing an fsync'd record at once (bench/controlplane: about a third of
// the proxy's CPU per request in shadow and canary).
//   /fast  shadow, modern answers at once: every copy lands before the
//          primary's answer or within the grace: no replay record
//   /slow  shadow, modern answers after 300 ms: the grace runs out, the
//          write is persisted (held, then settled by its copy), and the
//          client waited the grace and no longer
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

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
  fast: {url: http://127.0.0.1:${fast}}
  slow: {url: http://127.0.0.1:${slow}}
mirror: {timeout_ms: 5000, max_inflight: 1024}
replay: {durable_to_modern: true, persist_grace_ms: 100}
routes:
  - name: fast
    match: {prefix: /fast}
    mode: shadow
    backends: {modern: fast}
  - name: slow
    match: {prefix: /slow}
    mode: shadow
    backends: {modern: slow}
)";

constexpr int kWrites = 20;

TEST(PersistGrace, ACopyThatLandsWithinTheGraceNeedsNoReplayRecord) {
  Stack stack;
  stack.StartUpstream("legacy");
  // The copy answers 20 ms after the primary would (well within the 100 ms
  // grace): every copy lands after the primary's answer, so each write needs
  // the grace (with an undelayed copy, a loaded machine let every copy land
  // first and nothing was graced).
  stack.StartUpstream("fast", {"--delay-ms", "20"});
  stack.StartUpstream("slow", {"--delay-ms", "300"});
  stack.StartProxy(kYaml);
  Client c(stack.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < kWrites; ++i) {
    auto r = c.RoundTrip("POST /fast HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    ASSERT_EQ(r.status, 200);
  }
  const double graced = stack.Metric("ficus_proxy_persist_graced_total");
  EXPECT_GE(graced, 1);
  EXPECT_EQ(stack.Metric("ficus_proxy_replay_appended_total"), 0)
      << "copies that landed within the grace were persisted anyway";

  double slowest = 0, fastest = 1e9;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.RoundTrip("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    const double ms = Ms(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(r.status, 200);
    slowest = std::max(slowest, ms);
    fastest = std::min(fastest, ms);
  }
  // The grace ran out (100 ms) before the copy (300 ms): persisted, and
  // answered after the grace plus the fsync, not after the copy.
  EXPECT_EQ(stack.Metric("ficus_proxy_replay_appended_total"), 3);
  EXPECT_EQ(stack.Metric("ficus_proxy_persist_graced_total"), graced);
  EXPECT_GE(fastest, 95.0);
  EXPECT_LT(slowest, 290.0) << "the answer waited for the slow copy itself";
}

}  // namespace
}  // namespace ficus::proxy::blackbox
