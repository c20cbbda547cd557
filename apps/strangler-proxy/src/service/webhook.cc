#include "service/webhook.h"

#include <spdlog/spdlog.h>

#include "ficus/http/sync_client.h"

namespace ficus::proxy {

std::string HttpEndpoint::ToString() const {
  return "http://" + host + ":" + std::to_string(port) + target;
}

Result<unsigned> PostJson(const HttpEndpoint& url, const std::string& body,
                          std::chrono::milliseconds timeout) {
  http::SyncClientOptions o;
  o.host = url.host;
  o.port = url.port;
  o.timeout = timeout;
  o.max_body_bytes = std::size_t{64} * 1024;
  http::SyncClient client(o);
  http::Request req;
  req.method = "POST";
  req.target = url.target;
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("User-Agent", "ficus-proxy-autopilot");
  req.body = body;
  auto r = client.Send(req);
  if (!r) return tl::unexpected(r.error());
  return r->status;
}

Notifier::Notifier(std::chrono::milliseconds timeout, size_t max_queue)
    : timeout_(timeout), max_queue_(max_queue), thread_([this] { Run(); }) {}

Notifier::~Notifier() {
  Stop();
}

void Notifier::Post(const HttpEndpoint& url, std::string body) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (queue_.size() >= max_queue_) {
    ++counts_.dropped;
    return;
  }
  queue_.emplace_back(url, std::move(body));
  cv_.notify_one();
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Notifier::Counts Notifier::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void Notifier::Run() {
  for (;;) {
    std::pair<HttpEndpoint, std::string> item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    bool ok = false;
    std::string what;
    if (auto st = PostJson(item.first, item.second, timeout_); !st) {
      what = st.error().message;
    } else {
      ok = *st >= 200 && *st < 300;
      what = "HTTP " + std::to_string(*st);
    }
    if (!ok) spdlog::warn("autopilot: notification to {} failed: {}", item.first.ToString(), what);
    std::lock_guard lock(mu_);
    ++(ok ? counts_.sent : counts_.failed);
  }
}

}  // namespace ficus::proxy
