// Active health checks of backends that configure `health: /path`.
//
// Every `health_interval_ms` each such backend gets `GET <path>` on a fresh
// connection (timeout: the backend's connect timeout, then min(interval,
// 2 s) for the answer). 2xx = pass. Two consecutive failures mark the
// backend down, one pass marks it up again; transitions are logged and the
// ficus_proxy_backend_up gauge follows. The proxy does not send mirrors to a
// backend that is down (counted as "unhealthy"); primaries are still tried.
// Runs on one executor (the control loop); follows config reloads.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>

#include "api/proxy.h"
#include "ficus/clock.h"
#include "ficus/http/client.h"

namespace ficus::proxy {

class HealthChecker {
 public:
  HealthChecker(const boost::asio::any_io_executor& executor, Proxy& proxy);
  void Start();
  void Stop() { stopped_ = true; }

 private:
  struct Track {
    MonoTime next{};
    int failures = 0;
    bool running = false;
  };
  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> Check(std::shared_ptr<const Runtime> rt, const BackendRuntime* b);

  boost::asio::any_io_executor executor_;
  Proxy& proxy_;
  http::Client pool_;
  std::map<std::string, Track> tracks_;
  bool stopped_ = false;
};

}  // namespace ficus::proxy
