#include "service/metrics_scraper.h"

#include <memory>

#include "ficus/clock.h"
#include "ficus/http/sync_client.h"

namespace ficus::proxy {

namespace {
constexpr std::size_t kMaxBody = 1u << 20;
}  // namespace

PeriodicScraper::PeriodicScraper(TargetFn target, ResultFn on_result, std::function<void()> idle)
    : target_(std::move(target)), on_result_(std::move(on_result)), idle_(std::move(idle)) {}

PeriodicScraper::~PeriodicScraper() {
  Stop();
}

void PeriodicScraper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicScraper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicScraper::Loop() {
  std::unique_ptr<http::SyncClient> client;
  ScrapeTarget current;
  for (;;) {
    const MonoTime started = SystemClock::MonoNow();
    auto wait = std::chrono::milliseconds(1000);
    if (auto t = target_()) {
      if (!client || t->host != current.host || t->port != current.port ||
          t->timeout != current.timeout) {
        http::SyncClientOptions o;
        o.host = t->host;
        o.port = t->port;
        o.timeout = t->timeout;
        o.max_body_bytes = kMaxBody;
        client = std::make_unique<http::SyncClient>(std::move(o));
      }
      current = *t;
      http::Request req;
      req.method = "GET";
      req.target = t->path;
      req.headers.Set("Accept", "text/plain");
      req.headers.Set("User-Agent", "ficus-proxy-cdc");
      auto r = client->Send(req);
      Result<std::string> body = MakeError(ErrorCode::kInternal, "unset");
      if (!r) {
        body = tl::unexpected(r.error());
      } else if (r->status != 200) {
        body = MakeError(ErrorCode::kUnavailable, "HTTP " + std::to_string(r->status));
      } else {
        body = std::move(r->body);
      }
      on_result_(*t, body);
      wait = t->interval;
    } else {
      client.reset();
      if (idle_) idle_();
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, started + wait, [this] { return stopping_; })) return;
  }
}

}  // namespace ficus::proxy
