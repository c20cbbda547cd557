// Admin endpoints of the proxy (served on the admin listener, loopback by
// default): GET /metrics (Prometheus text), GET /healthz (alive; backends)
// and GET /readyz (200 while the proxy should get traffic; 503 draining or
// while a readiness check names a reason). All three are open. The control
// plane adds its own endpoints with AddHandler(); handlers are tried in
// order before the built-ins, the first to return a Response wins.
// Configure (AddHandler, AddReadinessCheck) before the listener starts; Handle()
// is then safe from any loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <vector>

#include "api/proxy.h"
#include "ficus/http/message.h"
#include "ficus/metrics.h"

namespace ficus::proxy {

using AdminHandler =
    std::function<boost::asio::awaitable<std::optional<http::Response>>(http::Request&)>;

class AdminApi {
 public:
  AdminApi(MetricsRegistry& metrics, Proxy& proxy) : metrics_(metrics), proxy_(proxy) {}
  void AddHandler(AdminHandler h) { handlers_.push_back(std::move(h)); }
  // /readyz answers 503 with the reason while `check` returns one.
  void AddReadinessCheck(std::function<std::optional<std::string>()> check) {
    readiness_.push_back(std::move(check));
  }

  boost::asio::awaitable<http::Response> Handle(http::Request& req);

 private:
  MetricsRegistry& metrics_;
  Proxy& proxy_;
  std::vector<AdminHandler> handlers_;
  std::vector<std::function<std::optional<std::string>()>> readiness_;
};

}  // namespace ficus::proxy
