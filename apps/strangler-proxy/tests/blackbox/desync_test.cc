// Black-box: interim (1xx) answers from a backend never end an exchange,
// and a pooled backend connection is never handed to the next client while
// part of the previous answer is unread. Before the fix, the proxy
// forwarded the 103 as the final answer, pooled the connection, and the
// next client received the previous client's 200 (with its cookie).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "raw_upstream.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

std::string Yaml(uint16_t port) {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:)" +
         std::to_string(port) + R"(}
routes: []
)";
}

// The final answer names the request it belongs to (body and cookie).
std::string Final(const RawExchange& x) {
  const std::string& who = x.request().target;
  return "HTTP/1.1 200 OK\r\nSet-Cookie: session=" + who.substr(1) +
         "\r\nContent-Length: " + std::to_string(who.size()) + "\r\n\r\n" + who;
}

struct Interim {
  const char* name;
  std::string bytes;
  int gap_ms;  // between the interim and the final answer (0: same write)
};

class DesyncTest : public ::testing::TestWithParam<Interim> {};

// Clients one after the other, each on its own connection: the proxy's one
// pooled backend connection serves them all in turn.
TEST_P(DesyncTest, ClientsInTurnEachGetTheirOwnAnswer) {
  const Interim p = GetParam();
  RawUpstream up([&p](RawExchange& x) {
    if (p.gap_ms == 0) {
      x.Send(p.bytes + Final(x));
      return;
    }
    x.Send(p.bytes);
    RawExchange::SleepMs(p.gap_ms);
    x.Send(Final(x));
  });
  Stack s;
  s.StartProxy(Yaml(up.port()));
  for (const char* who : {"/alice", "/bob", "/carol", "/dave"}) {
    auto r = s.Request(std::string("GET ") + who + " HTTP/1.1\r\nHost: app\r\n\r\n");
    ASSERT_EQ(r.status, 200) << p.name << " " << who << ":\n" << r.raw;
    EXPECT_EQ(r.body, who) << p.name;
    EXPECT_EQ(r.Header("Set-Cookie").value_or(""), std::string("session=") + (who + 1)) << p.name;
  }
}

// Several clients at once, several requests each on keep-alive connections.
TEST_P(DesyncTest, ConcurrentClientsEachGetTheirOwnAnswer) {
  const Interim p = GetParam();
  RawUpstream up([&p](RawExchange& x) {
    x.Send(p.bytes);
    if (p.gap_ms) RawExchange::SleepMs(p.gap_ms);
    x.Send(Final(x));
  });
  Stack s;
  s.StartProxy(Yaml(up.port()));
  constexpr int kClients = 8, kEach = 5;
  std::atomic<int> wrong{0}, ok{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(s.port());
      for (int i = 0; i < kEach; ++i) {
        const std::string who = "/u" + std::to_string(c) + "-" + std::to_string(i);
        auto r = client.RoundTrip("GET " + who + " HTTP/1.1\r\nHost: app\r\n\r\n");
        if (r.status == 200 && r.body == who) {
          ok.fetch_add(1);
        } else {
          wrong.fetch_add(1);
          errors[c] = who + " got " + std::to_string(r.status) + " " + r.body;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::string all;
  for (const auto& e : errors) all += e.empty() ? "" : e + "\n";
  EXPECT_EQ(wrong.load(), 0) << p.name << ":\n" << all;
  EXPECT_EQ(ok.load(), kClients * kEach) << p.name;
}

INSTANTIATE_TEST_SUITE_P(
    Interims, DesyncTest,
    ::testing::Values(Interim{"EarlyHintsApart",
                              "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
                              30},
                      Interim{"EarlyHintsTogether",
                              "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", 0},
                      Interim{"ContinueApart", "HTTP/1.1 100 Continue\r\n\r\n", 30},
                      Interim{"ProcessingTwiceApart",
                              "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
                              30}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace ficus::proxy::blackbox
