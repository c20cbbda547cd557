// Black-box: config reload (SIGHUP and file change) under load loses no
// request; a bad file keeps the old table; raising the canary percent keeps
// every user already in; SIGTERM drains in-flight requests and exits 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "domain/cohort.h"
#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

// ${TARGET} is replaced per test with the backend the route serves from.
std::string Yaml(const std::string& target_backend, const std::string& percent = "10") {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 2
access_log: "off"
drain_timeout_ms: 5000
backends:
  legacy: {url: http://127.0.0.1:${a}}
  other: {url: http://127.0.0.1:${b}}
  modern: {url: http://127.0.0.1:${b}}
cohorts:
  users: {key: [header:X-User-Id], salt: "reload-1"}
routes:
  - name: r
    match: {prefix: /r}
    mode: legacy
    backends: {legacy: )" +
         target_backend + R"(}
  - name: c
    match: {prefix: /c}
    cohort: users
    mode: canary
    percent: )" +
         percent + "\n";
}

std::string Served(const ParsedResponse& r) {
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("upstream")) return "?";
  return std::string(v.as_object().at("upstream").as_string());
}

struct Load {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, from_a{0}, from_b{0};
  std::vector<std::thread> threads;
  std::string first_failure;
  std::mutex mu;

  void Start(uint16_t port, int n) {
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([this, port, t] {
        auto c = std::make_unique<Client>(port);
        int i = 0;
        while (!stop.load()) {
          // Mix keep-alive and new connections (one in 8 reconnects).
          if (++i % 8 == 0 || !c->connected()) c = std::make_unique<Client>(port);
          auto r = c->RoundTrip("POST /r/" + std::to_string(t) +
                                " HTTP/1.1\r\nHost: l\r\nContent-Length: 2\r\n\r\n{}");
          if (r.status == 200) {
            ++ok;
            (Served(r) == "a" ? from_a : from_b)++;
          } else {
            ++failed;
            std::lock_guard lk(mu);
            if (first_failure.empty()) first_failure = r.raw.empty() ? "(no response)" : r.raw;
            c = std::make_unique<Client>(port);
          }
        }
      });
    }
  }
  void Stop() {
    stop = true;
    for (auto& t : threads) t.join();
  }
};

TEST(Reload, SighupAndFileChangesUnderLoadLoseNoRequest) {
  Stack stack;
  stack.StartUpstream("a");
  stack.StartUpstream("b");
  stack.StartProxy(Yaml("legacy"));
  Load load;
  load.Start(stack.port(), 4);
  int reloads = 0;
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(150ms);
    const bool to_b = i % 2 == 0;
    if (i % 3 == 0) {
      // A file change alone (the proxy polls the file every 500 ms).
      stack.WriteConfig(Yaml(to_b ? "other" : "legacy"));
      std::this_thread::sleep_for(700ms);
    } else {
      stack.WriteConfig(Yaml(to_b ? "other" : "legacy"));
      stack.proxy().Signal(SIGHUP);
    }
    ++reloads;
  }
  std::this_thread::sleep_for(200ms);
  load.Stop();
  EXPECT_EQ(load.failed.load(), 0) << load.first_failure;
  EXPECT_GT(load.ok.load(), 200);
  // Both tables were in force during the run.
  EXPECT_GT(load.from_a.load(), 0);
  EXPECT_GT(load.from_b.load(), 0);
  EXPECT_GE(stack.Metric(R"(ficus_proxy_config_reloads_total{result="ok"})"), reloads * 0.6);
  EXPECT_EQ(stack.Metric(R"(ficus_proxy_config_reloads_total{result="rejected"})"), 0);
  EXPECT_TRUE(stack.proxy().running());
}

TEST(Reload, BadFileIsRejectedAndTheOldTableKept) {
  Stack stack;
  stack.StartUpstream("a");
  stack.StartUpstream("b");
  stack.StartProxy(Yaml("other"));
  auto req = "POST /r HTTP/1.1\r\nHost: l\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_EQ(Served(stack.Request(req)), "b");
  const double gen = stack.Metric("ficus_proxy_config_generation");

  struct Bad {
    std::string text;
    std::string expect_in_log;
  };
  const std::vector<Bad> bad = {
      {"routes: [\n  - name: x\n", "yaml"},
      {Yaml("legacy") + "    colour: red\n", "routes[1].colour: unknown key"},
      {Yaml("nosuch"), "routes[0].backends.legacy: unknown backend 'nosuch'"},
      {Yaml("legacy", "101"), "routes[1].percent"},
      {"", "config is empty"},
  };
  double rejected = 0;
  for (const auto& b : bad) {
    stack.WriteConfig(b.text);
    stack.proxy().Signal(SIGHUP);
    ++rejected;
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (stack.Metric(R"(ficus_proxy_config_reloads_total{result="rejected"})") < rejected &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
    }
    // The file poll may reject the same bad file once more: count what is there.
    rejected = stack.Metric(R"(ficus_proxy_config_reloads_total{result="rejected"})");
    EXPECT_EQ(Served(stack.Request(req)), "b") << "old table lost after: " << b.expect_in_log;
    EXPECT_NE(stack.proxy().Logs().find(b.expect_in_log), std::string::npos)
        << "log does not name the problem '" << b.expect_in_log << "':\n"
        << stack.proxy().Logs();
  }
  EXPECT_GE(rejected, static_cast<double>(bad.size()));
  EXPECT_EQ(stack.Metric("ficus_proxy_config_generation"), gen);
  EXPECT_TRUE(stack.proxy().running());
  // A good file afterwards is taken.
  stack.WriteConfig(Yaml("legacy"));
  stack.proxy().Signal(SIGHUP);
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (Served(stack.Request(req)) != "a" && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(Served(stack.Request(req)), "a");
}

TEST(Reload, RaisingThePercentKeepsEveryCanaryUserAndSameFileSameAnswer) {
  Stack stack;
  stack.StartUpstream("a");
  stack.StartUpstream("b");
  stack.StartProxy(Yaml("legacy", "10"));
  std::mt19937_64 rng(5);
  std::vector<std::string> users;
  users.reserve(80);
  for (int i = 0; i < 80; ++i) users.push_back("u" + std::to_string(rng()));
  auto route = [&](const std::string& u) {
    return Served(stack.Request("GET /c HTTP/1.1\r\nHost: l\r\nX-User-Id: " + u + "\r\n\r\n"));
  };
  std::vector<std::string> before;
  before.reserve(users.size());
  for (const auto& u : users) before.push_back(route(u));
  // Same file reloaded: same answer for everyone.
  stack.proxy().Signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  for (std::size_t i = 0; i < users.size(); ++i) EXPECT_EQ(route(users[i]), before[i]);
  // 10 -> 50 %: everyone in stays in, some join, and the hash predicts who.
  stack.WriteConfig(Yaml("legacy", "50"));
  stack.proxy().Signal(SIGHUP);
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (stack.Metric("ficus_proxy_config_generation") < 3 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  int joined = 0;
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto now = route(users[i]);
    if (before[i] == "b") {
      EXPECT_EQ(now, "b") << users[i] << " left the canary";
    }
    joined += before[i] == "a" && now == "b";
    const bool in = CohortBucket("reload-1", NormalizeCohortKey(users[i])) < 5000;
    EXPECT_EQ(now, in ? "b" : "a") << users[i];
  }
  EXPECT_GT(joined, 0);
}

TEST(Drain, SigtermFinishesInFlightRequestsRefusesNewOnesAndExitsZero) {
  Stack stack;
  auto& a = stack.StartUpstream("a");
  stack.StartUpstream("b");
  stack.StartProxy(Yaml("legacy"));
  constexpr int kInFlight = 6;
  std::vector<std::thread> clients;
  clients.reserve(kInFlight);
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kInFlight);
  for (int i = 0; i < kInFlight; ++i) {
    clients.emplace_back([&, i] {
      auto r = stack.Request("POST /r/" + std::to_string(i) +
                             " HTTP/1.1\r\nHost: l\r\nX-Test-Delay-Ms: 1200\r\n"
                             "Content-Length: 2\r\n\r\n{}");
      if (r.status == 200 && Served(r) == "a") {
        ++ok;
      } else {
        failures[i] = r.raw;
      }
    });
  }
  // Wait until all have reached the backend (they are now in flight).
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (a.Requests().size() < kInFlight && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(a.Requests().size(), static_cast<std::size_t>(kInFlight));
  // An idle keep-alive client is closed by the drain.
  Client idle(stack.port());
  ASSERT_EQ(idle.RoundTrip("GET /x HTTP/1.1\r\nHost: l\r\n\r\n").status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  stack.proxy().Signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Client(stack.port(), 1s).RoundTrip("GET /x HTTP/1.1\r\nHost: l\r\n\r\n").status, -1)
      << "a new request was accepted while draining";
  auto code = stack.proxy().Wait(8s);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kInFlight) << failures[0];
  ASSERT_TRUE(code.has_value()) << "proxy did not exit";
  EXPECT_EQ(*code, 0) << stack.proxy().Logs();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 800ms) << "exited before in-flight finished";
  EXPECT_NE(stack.proxy().Logs().find("drained (clean)"), std::string::npos)
      << stack.proxy().Logs();
}

}  // namespace
}  // namespace ficus::proxy::blackbox
