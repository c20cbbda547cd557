// Black-box: the proxy's kill -9 window (issue 12, "a write that reached
// either side reaches both"). A mirrored write is recorded as an intent in
// the replay directory before it leaves the proxy (replay.intents); a
// restarted proxy replays every unsettled intent to both sides.
//
// The case, per mode (shadow: legacy serves, the copy goes to modern;
// canary 100% and full: modern serves, the copy goes to legacy): the
// serving side holds the write (it logged it on arrival and answers only
// after 3 s), the other side is down so the copy fails at once. Before
// intents, nothing was written for the other side until the serving side
// answered (persist before answer, after the grace): a kill -9 of the proxy
// in that window left the write on the serving side only, for good. Here
// the proxy is killed while the write is held, the other side comes up,
// the proxy restarts on the same replay directory: the other side must get
// the write with its original X-Ficus-Timestamp (and the serving side a
// repeat of it, a no-op under last-write-wins).
//
// Also: writes that both sides acknowledged are settled and NOT replayed
// after a kill -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

std::string Yaml(const std::string& mode, const std::string& legacy_port,
                 const std::string& modern_port) {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:)" +
         legacy_port + R"(}
  modern: {url: http://127.0.0.1:)" +
         modern_port + R"(}
cohorts:
  users: {key: [header:X-User-Id], salt: "kw"}
mirror: {timeout_ms: 5000}
routes:
  - name: w
    match: {method: POST, path: /w/update}
    rewrite: {modern: /w2/update}
    cohort: users
    mode: )" +
         mode + (mode == "canary" ? "\n    percent: 100\n" : "\n");
}

std::string Write(const std::string& user, const std::string& body) {
  return "POST /w/update HTTP/1.1\r\nHost: t\r\nX-User-Id: " + user +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

bool IsReplay(const boost::json::object& o) {
  return EchoHeader(o, "X-Ficus-Replay").has_value();
}

class KillWindow : public ::testing::TestWithParam<std::string> {};

TEST_P(KillWindow, AWriteInFlightAtKillReachesBothSidesAfterRestart) {
  const std::string mode = GetParam();
  const bool legacy_serves = mode == "shadow";
  const std::string serving = legacy_serves ? "legacy" : "modern";
  const std::string other = legacy_serves ? "modern" : "legacy";
  Stack stack;
  auto& holder = stack.StartUpstream(serving, {"--delay-ms", "3000"});
  auto yaml_down =
      legacy_serves ? Yaml(mode, "${legacy}", "${DEAD}") : Yaml(mode, "${DEAD}", "${modern}");
  stack.StartProxy(yaml_down);

  const std::string body = R"({"user_id":"u-kill","attributes":{"k":")" + mode + R"("}})";
  std::thread client([&] {
    auto r = stack.Request(Write("u-kill", body), 8s);
    EXPECT_EQ(r.status, -1) << "the proxy answered before it was killed: " << r.raw;
  });
  // The serving side holds the write; the copy to the other side failed.
  auto held = holder.WaitFor([](const boost::json::object& o) { return !IsReplay(o); }, 3s);
  ASSERT_TRUE(held) << "the serving side never got the write";
  const auto ts = EchoHeader(*held, "X-Ficus-Timestamp");
  ASSERT_TRUE(ts);
  const std::string copies = "ficus_proxy_mirror_total{route=\"w\",outcome=\"";
  for (int i = 0;
       i < 100 &&
       stack.Metric(copies + "connect_error\"}") + stack.Metric(copies + "unhealthy\"}") < 1;
       ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(stack.Metric(copies + "connect_error\"}") + stack.Metric(copies + "unhealthy\"}"), 1)
      << "the copy to " << other << " did not fail before the kill";
  stack.proxy().Signal(SIGKILL);
  ASSERT_TRUE(stack.proxy().Wait(5s));
  client.join();

  auto& late = stack.StartUpstream(other);
  stack.WriteConfig(Yaml(mode, "${legacy}", "${modern}"));
  stack.RestartProxy();
  auto got = late.WaitFor(
      [&](const boost::json::object& o) { return EchoHeader(o, "X-Ficus-Timestamp") == ts; }, 10s);
  ASSERT_TRUE(got) << other << " never got the write the proxy had sent to " << serving
                   << " before its kill -9 (X-Ficus-Timestamp " << *ts << ")";
  EXPECT_EQ(got->at("body").as_string(), body);
  EXPECT_EQ(got->at("target").as_string(), legacy_serves ? "/w2/update" : "/w/update");
  // The serving side gets the same write again: a no-op under LWW.
  EXPECT_TRUE(holder.WaitFor(
      [&](const boost::json::object& o) {
        return IsReplay(o) && EchoHeader(o, "X-Ficus-Timestamp") == ts;
      },
      10s));
}

INSTANTIATE_TEST_SUITE_P(Modes, KillWindow, ::testing::Values("shadow", "canary", "full"));

TEST(KillWindowSettled, WritesBothSidesAcknowledgedAreNotReplayed) {
  Stack stack;
  auto& legacy = stack.StartUpstream("legacy");
  auto& modern = stack.StartUpstream("modern");
  stack.StartProxy(Yaml("shadow", "${legacy}", "${modern}"));
  Client c(stack.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 20; ++i) {
    auto r = c.RoundTrip(Write("u" + std::to_string(i), R"({"a":1})"));
    ASSERT_EQ(r.status, 200);
  }
  // Every copy landed (and so was settled) before the kill.
  for (int i = 0; i < 100 && modern.Requests().size() < 20; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(modern.Requests().size(), 20u);
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(stack.Metric("ficus_proxy_write_intents_total{event=\"settled\"}"), 20);
  stack.proxy().Signal(SIGKILL);
  ASSERT_TRUE(stack.proxy().Wait(5s));
  stack.RestartProxy();
  std::this_thread::sleep_for(1s);
  for (const auto* up : {&legacy, &modern}) {
    for (const auto& o : up->Requests()) EXPECT_FALSE(IsReplay(o)) << up->name << ": " << o;
  }
  EXPECT_EQ(legacy.Requests().size(), 20u);
  EXPECT_EQ(modern.Requests().size(), 20u);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
