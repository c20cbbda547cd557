#include "api/health.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ficus::proxy {

namespace asio = boost::asio;

HealthChecker::HealthChecker(const asio::any_io_executor& executor, Proxy& proxy)
    : executor_(executor), proxy_(proxy), pool_(executor) {}

void HealthChecker::Start() {
  asio::co_spawn(executor_, Loop(), asio::detached);
}

asio::awaitable<void> HealthChecker::Loop() {
  asio::steady_timer timer(executor_);
  while (!stopped_) {
    auto rt = proxy_.runtime();
    const MonoTime now = SystemClock::MonoNow();
    for (const auto& [name, b] : rt->backends) {
      if (b.config->health_path.empty()) continue;
      auto& t = tracks_[name];
      if (t.running || now < t.next) continue;
      t.running = true;
      t.next = now + std::chrono::milliseconds(b.config->health_interval_ms);
      asio::co_spawn(executor_, Check(rt, &b), asio::detached);
    }
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> HealthChecker::Check(std::shared_ptr<const Runtime> rt,
                                           const BackendRuntime* b) {
  http::ClientTarget target = b->target;
  target.key = "health:" + target.key;  // never shares connections with traffic
  target.max_idle = 0;
  const auto timeout = std::min<uint32_t>(b->config->health_interval_ms, 2000);
  std::string head = "GET " + b->config->health_path +
                     " HTTP/1.1\r\nHost: " + b->config->address.ToString() +
                     "\r\nUser-Agent: ficus-proxy-health\r\nConnection: close\r\n\r\n";
  auto r = co_await pool_.Exchange(target, head, {}, false, 64UL * 1024, timeout);
  const bool pass = r.ok() && r.response.result_int() / 100 == 2;
  auto& t = tracks_[b->target.name];
  t.running = false;
  auto& up = b->state->up;
  if (pass) {
    t.failures = 0;
    if (!up.load()) {
      spdlog::info("backend {} is up again (health check {} passed)", b->target.name,
                   b->config->health_path);
    }
    up.store(true);
    b->state->up_gauge->Set(1);
  } else {
    ++t.failures;
    if (t.failures >= 2 && up.load()) {
      spdlog::warn("backend {} is down: health check {} failed twice ({})", b->target.name,
                   b->config->health_path,
                   r.ok() ? "status " + std::to_string(r.response.result_int()) : r.detail);
      up.store(false);
      b->state->up_gauge->Set(0);
    }
  }
  (void)rt;
}

}  // namespace ficus::proxy
