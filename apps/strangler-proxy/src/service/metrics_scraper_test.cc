#include "service/metrics_scraper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <vector>

#include "ficus/http/server.h"

namespace ficus::proxy {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::mutex mu;
  std::vector<Result<std::string>> results;
  std::vector<std::string> paths;
  size_t Count() {
    std::lock_guard lock(mu);
    return results.size();
  }
};

bool WaitFor(const std::function<bool()>& pred) {
  for (int i = 0; i < 100; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

// A real HTTP server on a free loopback port (packages/http), then gone.
TEST(PeriodicScraper, ScrapesAtTheIntervalAndReportsAServerThatIsGone) {
  std::atomic<int> status{200};
  http::ServerOptions so;
  so.port = 0;
  Seen seen;
  http::Server server(so, [&](http::Request& req) -> boost::asio::awaitable<http::Response> {
    {
      std::lock_guard lock(seen.mu);
      seen.paths.emplace_back(req.target);
    }
    co_return http::Response::Text(status.load(), "ficus_cdc_lag_seconds 0\n", "text/plain");
  });
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().message;
  std::atomic<bool> configured{true};
  std::atomic<int> idles{0};
  PeriodicScraper scraper(
      [&]() -> std::optional<ScrapeTarget> {
        if (!configured) return std::nullopt;
        return ScrapeTarget{"u", "127.0.0.1", *port, "/metrics", 100ms, 500ms};
      },
      [&](const ScrapeTarget&, const Result<std::string>& body) {
        std::lock_guard lock(seen.mu);
        seen.results.push_back(body);
      },
      [&] { ++idles; });
  const auto t0 = std::chrono::steady_clock::now();
  scraper.Start();
  ASSERT_TRUE(WaitFor([&] { return seen.Count() >= 5; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "about one scrape per 100 ms";
  {
    std::lock_guard lock(seen.mu);
    ASSERT_TRUE(seen.results[0]) << seen.results[0].error().message;
    EXPECT_EQ(*seen.results[0], "ficus_cdc_lag_seconds 0\n");
    EXPECT_EQ(seen.paths[0], "/metrics");
  }
  status = 503;
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(seen.mu);
    return !seen.results.back() && seen.results.back().error().message == "HTTP 503";
  }));
  server.Drain(0s);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(seen.mu);
    return !seen.results.back() &&
           seen.results.back().error().message.find("connect 127.0.0.1:") != std::string::npos;
  }));
  configured = false;
  ASSERT_TRUE(WaitFor([&] { return idles.load() >= 1; }));
  const auto stop0 = std::chrono::steady_clock::now();
  scraper.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop0, 1s) << "Stop() wakes the sleeping thread";
}

}  // namespace
}  // namespace ficus::proxy
