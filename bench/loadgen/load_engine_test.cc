// RunLoad against a real ficus::http::Server on 127.0.0.1 (port 0).
#include "load_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

#include "ficus/http/server.h"
#include "request_set.h"

namespace ficus::bench {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct Served {
  explicit Served(http::Handler h) : server(http::ServerOptions{}, std::move(h)) {
    auto p = server.Start();
    EXPECT_TRUE(p);
    port = p ? *p : 0;
  }
  ~Served() { server.Drain(1s); }
  http::Server server;
  std::uint16_t port = 0;
};

LoadOptions Options(std::uint16_t port, double rate, std::chrono::milliseconds duration,
                    int conns) {
  LoadOptions o;
  o.port = port;
  o.rate = rate;
  o.duration = duration;
  o.connections = conns;
  o.drain = 2s;
  RequestSpec spec;
  spec.method = "POST";
  spec.path = "/echo";
  spec.body_template = R"({"user_id":"{user}"})";
  spec.count = 100;
  o.requests = std::make_shared<const std::vector<std::string>>(*BuildRequests(spec));
  return o;
}

http::Handler Ok() {
  return [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::Json(200, "{}");
  };
}

TEST(LoadEngine, ConstantRateIsOfferedAndAnswered) {
  Served s(Ok());
  auto r = RunLoad(Options(s.port, 2000, 1000ms, 8));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->scheduled, 2000u);
  EXPECT_EQ(r->completed, 2000u);
  EXPECT_EQ(r->status_2xx, 2000u);
  EXPECT_EQ(r->errors(), 0u) << r->first_error;
  EXPECT_EQ(r->latency.count(), 2000u);
  EXPECT_EQ(s.server.Counters().requests_total, 2000u);  // no warm-up here
}

TEST(LoadEngine, PoissonOffersTheRate) {
  Served s(Ok());
  auto o = Options(s.port, 3000, 1000ms, 8);
  o.arrival = Arrival::kPoisson;
  o.threads = 2;
  o.warmup = 200ms;
  auto r = RunLoad(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NEAR(static_cast<double>(r->scheduled), 3000.0, 300.0);  // 5.5 sigma
  EXPECT_EQ(r->completed, r->scheduled);
  EXPECT_EQ(r->errors(), 0u) << r->first_error;
  // warm-up requests reached the server but are not in the figures
  EXPECT_GT(s.server.Counters().requests_total, r->completed + 300);
}

// The point of the tool: a server that stalls for 300 ms once. Requests due
// during the stall are late by up to 300 ms whether or not a connection was
// free to send them; a closed-loop client (or wrk's own latency) would show
// only the few requests in flight at the stall as slow.
TEST(LoadEngine, StallCountsForEveryRequestDueDuringIt) {
  std::atomic<int> seen{0};
  Served s([&](http::Request&) -> asio::awaitable<http::Response> {
    if (++seen == 500) std::this_thread::sleep_for(300ms);  // blocks the server's one loop
    co_return http::Response::Json(200, "{}");
  });
  auto r = RunLoad(Options(s.port, 1000, 1500ms, 4));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->errors(), 0u) << r->first_error;
  EXPECT_EQ(r->completed, 1500u);
  // ~300 requests were due during the stall; ~200 of them waited > 100 ms:
  // 13% of 1500, so p90 is above 100 ms.
  EXPECT_GT(r->latency.Percentile(90), 100'000'000u);
  EXPECT_GT(r->latency.max(), 250'000'000u);
  // Sent-to-answered time hides it: only the 4 in flight saw the stall.
  EXPECT_LT(r->service.Percentile(90), 50'000'000u);
  EXPECT_GT(r->send_lag.Percentile(90), 100'000'000u);  // they waited in the client
}

// The timeline shows when: the 300 ms stall lands in the intervals around
// request 500 (t = 0.5 s at 1000/s), and not in the first or last ones.
TEST(LoadEngine, TimelineLocatesTheStall) {
  std::atomic<int> seen{0};
  Served s([&](http::Request&) -> asio::awaitable<http::Response> {
    if (++seen == 500) std::this_thread::sleep_for(300ms);
    co_return http::Response::Json(200, "{}");
  });
  auto o = Options(s.port, 1000, 1500ms, 4);
  o.timeline = 100ms;
  auto r = RunLoad(o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->timeline.size(), 15u);
  std::uint64_t total = 0;
  for (const auto& b : r->timeline) total += b.count;
  EXPECT_EQ(total, r->completed);
  EXPECT_LT(r->timeline[1].max_latency, 50'000'000u);
  EXPECT_GT(r->timeline[5].max_latency, 200'000'000u);  // due at 0.5-0.6 s: waited for 0.8 s
  EXPECT_GT(r->timeline[5].max_send_lag, 100'000'000u);
  EXPECT_LT(r->timeline[13].max_latency, 50'000'000u);
  EXPECT_EQ(r->latency.max(),
            std::max_element(r->timeline.begin(), r->timeline.end(),
                             [](const TimelineBucket& a, const TimelineBucket& b) {
                               return a.max_latency < b.max_latency;
                             })
                ->max_latency);
}

TEST(LoadEngine, TimeoutsAndServerClosesAreCounted) {
  Served slow([](http::Request&) -> asio::awaitable<http::Response> {
    asio::steady_timer t(co_await asio::this_coro::executor, 2s);
    co_await t.async_wait(asio::use_awaitable);
    co_return http::Response::Json(200, "{}");
  });
  auto o = Options(slow.port, 20, 500ms, 20);
  o.timeout = 200ms;
  auto r = RunLoad(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->scheduled, 10u);
  EXPECT_EQ(r->timeouts, 10u);
  EXPECT_EQ(r->completed, 0u);
  EXPECT_EQ(r->first_error, "request timed out");

  // "Connection: close" on every answer: each request gets a fresh
  // connection, none fails.
  Served closing([](http::Request&) -> asio::awaitable<http::Response> {
    auto resp = http::Response::Json(503, "{}");
    resp.headers.Add("Connection", "close");
    co_return resp;
  });
  r = RunLoad(Options(closing.port, 200, 500ms, 2));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->completed, 100u);
  EXPECT_EQ(r->status_5xx, 100u);
  EXPECT_EQ(r->io_errors, 0u) << r->first_error;
  EXPECT_GE(r->reconnects, 100u);
  EXPECT_EQ(r->errors(), 100u);  // 5xx are errors
}

TEST(LoadEngine, NoServerIsAnError) {
  std::uint16_t port = 0;
  {
    Served s(Ok());
    port = s.port;
  }
  auto r = RunLoad(Options(port, 100, 100ms, 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  auto o = Options(1, 100, 100ms, 1);
  o.rate = 0;
  EXPECT_EQ(RunLoad(o).error().message, "--rate: must be > 0");
}

}  // namespace
}  // namespace ficus::bench
