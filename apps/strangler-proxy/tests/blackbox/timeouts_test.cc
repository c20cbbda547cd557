// Black-box: upstream timeouts at their three levels (top-level `timeouts:`,
// a backend's keys, a route's `timeouts:`), against a real slow upstream
// (a raw socket that answers late, or stalls in the middle of a body).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "harness.h"
#include "raw_upstream.h"
#include "wire_client.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

constexpr int kSlowMs = 700;  // the upstream's delay; the short timeouts are 300 ms

// /.../late: the answer after kSlowMs; /.../stall: 5 of 10 body bytes, a
// kSlowMs pause, the other 5.
void SlowUpstream(RawExchange& x) {
  const std::string& t = x.request().target;
  if (t.find("late") != std::string::npos) {
    RawExchange::SleepMs(kSlowMs);
    x.Send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
  } else if (t.find("stall") != std::string::npos) {
    x.Send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst");
    RawExchange::SleepMs(kSlowMs);
    x.Send("-last");
  } else {
    x.Send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
}

std::string Yaml(uint16_t port) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
timeouts: {response_timeout_ms: 3000, idle_timeout_ms: 3000}
backends:
  legacy: {url: ")" +
         url + R"("}
  strict: {url: ")" +
         url + R"(", response_timeout_ms: 300, idle_timeout_ms: 300}
routes:
  - {name: quick, match: {prefix: /quick/}, mode: legacy,
     timeouts: {response_timeout_ms: 300, idle_timeout_ms: 300}}
  - {name: strict, match: {prefix: /strict/}, mode: legacy, backends: {legacy: strict}}
  - {name: patient, match: {prefix: /patient/}, mode: legacy, backends: {legacy: strict},
     timeouts: {response_timeout_ms: 3000, idle_timeout_ms: 3000}}
)";
}

struct Got {
  WireAnswer answer;
  double ms = 0;
};

Got Fetch(uint16_t port, const std::string& path) {
  WireClient c(port);
  EXPECT_TRUE(c.connected());
  const auto t0 = std::chrono::steady_clock::now();
  c.Send("GET " + path + " HTTP/1.1\r\nHost: app\r\n\r\n");
  Got g;
  g.answer = c.Read(false, 10s);
  g.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return g;
}

TEST(Timeouts, LateFirstByteHonoursGlobalBackendAndRouteTimeouts) {
  RawUpstream up(SlowUpstream);
  Stack s;
  s.StartProxy(Yaml(up.port()));
  // Global 3 s: the late answer arrives.
  auto g = Fetch(s.port(), "/late");
  EXPECT_EQ(g.answer.status, 200) << g.answer.Describe();
  EXPECT_EQ(g.answer.body, "late");
  // The route's 300 ms on the default backend: 504, well before the answer.
  g = Fetch(s.port(), "/quick/late");
  EXPECT_EQ(g.answer.status, 504) << g.answer.Describe();
  EXPECT_LT(g.ms, kSlowMs) << "the route's response timeout did not apply";
  // The backend's own 300 ms: 504.
  g = Fetch(s.port(), "/strict/late");
  EXPECT_EQ(g.answer.status, 504) << g.answer.Describe();
  EXPECT_LT(g.ms, kSlowMs);
  // A route's 3 s over that strict backend: the answer arrives.
  g = Fetch(s.port(), "/patient/late");
  EXPECT_EQ(g.answer.status, 200) << g.answer.Describe();
  EXPECT_EQ(g.answer.body, "late");
}

TEST(Timeouts, StalledBodyIsCutByTheIdleTimeoutInForceForTheRoute) {
  RawUpstream up(SlowUpstream);
  Stack s;
  s.StartProxy(Yaml(up.port()));
  auto g = Fetch(s.port(), "/stall");
  EXPECT_TRUE(g.answer.complete) << g.answer.Describe();
  EXPECT_EQ(g.answer.body, "first-last");
  for (const char* cut : {"/quick/stall", "/strict/stall"}) {
    SCOPED_TRACE(cut);
    g = Fetch(s.port(), cut);
    EXPECT_EQ(g.answer.status, 200) << g.answer.Describe();  // the head was on its way
    EXPECT_FALSE(g.answer.complete) << "a stalled body must never look complete";
    EXPECT_LT(g.ms, kSlowMs);
  }
  g = Fetch(s.port(), "/patient/stall");
  EXPECT_TRUE(g.answer.complete) << g.answer.Describe();
  EXPECT_EQ(g.answer.body, "first-last");
}

}  // namespace
}  // namespace ficus::proxy::blackbox
