// Black-box: Upgrade tunnels through ficus-proxy. A 101 from the backend
// turns the exchange into a byte pipe both ways (counted in metrics), a
// silent tunnel is closed at the backend's idle timeout, and a route can
// refuse upgrades (403, nothing reaches the backend).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "harness.h"
#include "raw_upstream.h"
#include "wire_client.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

void WebSocketBackend(RawExchange& x) {
  if (x.request().Header("Upgrade") != "websocket") {
    x.Send("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  x.Send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  for (;;) {
    const std::string got = x.ReadSome(5000ms);
    if (got.empty()) break;
    x.Send("echo:" + got);
  }
  x.Close();
}

std::string Yaml(uint16_t port) {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
backends:
  legacy:
    url: http://127.0.0.1:)" +
         std::to_string(port) + R"(
    idle_timeout_ms: 400
routes:
  - {name: closed, match: {prefix: /closed/}, mode: legacy, upgrade: false}
)";
}

const char* kUpgrade =
    " HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

TEST(Upgrade, TunnelPipesBothWaysAndIsCounted) {
  RawUpstream up(WebSocketBackend);
  Stack s;
  s.StartProxy(Yaml(up.port()));
  {
    WireClient c(s.port());
    c.Send(std::string("GET /chat") + kUpgrade);
    auto a = c.Read();
    ASSERT_EQ(a.status, 101) << a.Describe();
    EXPECT_EQ(a.Field("Upgrade").value_or(""), "websocket");
    // Counted once the proxy starts piping (just after the 101 went out).
    const auto open_by = std::chrono::steady_clock::now() + 3s;
    while (s.Metric("ficus_proxy_tunnels_active") != 1 &&
           std::chrono::steady_clock::now() < open_by) {
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(s.Metric("ficus_proxy_tunnels_active"), 1);
    for (int i = 0; i < 3; ++i) {
      const std::string msg = "message-" + std::to_string(i);
      c.Send(msg);
      std::string got;
      const auto until = std::chrono::steady_clock::now() + 3s;
      while (got.size() < msg.size() + 5 && std::chrono::steady_clock::now() < until) {
        got += c.ReadRaw(100ms);
      }
      EXPECT_EQ(got, "echo:" + msg);
    }
  }
  EXPECT_EQ(s.Metric("ficus_proxy_tunnels_total"), 1);
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (s.Metric("ficus_proxy_tunnels_active") != 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(s.Metric("ficus_proxy_tunnels_active"), 0) << "a closed tunnel is no longer counted";
}

TEST(Upgrade, SilentTunnelIsClosedAtTheIdleTimeout) {
  RawUpstream up(WebSocketBackend);
  Stack s;
  s.StartProxy(Yaml(up.port()));
  WireClient c(s.port());
  c.Send(std::string("GET /chat") + kUpgrade);
  ASSERT_EQ(c.Read().status, 101);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.PeerClosed(3000ms)) << "the tunnel outlived its idle timeout";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
}

TEST(Upgrade, RouteThatRefusesUpgradesAnswers403AndTheBackendSeesNothing) {
  RawUpstream up(WebSocketBackend);
  Stack s;
  s.StartProxy(Yaml(up.port()));
  WireClient c(s.port());
  c.Send(std::string("GET /closed/chat") + kUpgrade);
  auto a = c.Read();
  EXPECT_EQ(a.status, 403) << a.Describe();
  EXPECT_EQ(up.requests(), 0);
  EXPECT_EQ(s.Metric("ficus_proxy_upgrades_refused_total"), 1);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
