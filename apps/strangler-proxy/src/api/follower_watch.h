// FollowerWatch: the binlog follower as the proxy sees it (`cdc:` in the
// config). A PeriodicScraper thread fetches cdc.metrics_url every
// cdc.interval_ms (timeout cdc.timeout_ms) and records what it reads in a
// FollowerMonitor (domain/follower_status.h): state ok | lagging (lag over
// cdc.lag_warn_s) | unreachable | not_configured, lag, events/s, last GTID.
// Follows config reloads (the target is read from `configured` every round;
// an empty metrics_url is not_configured).
// Shown in /admin/status ("cdc", Json()), on the dashboard and in /metrics
// (AddFollowerMetrics over monitor()).
// Threads: Start/Stop once each, from main; Json() and monitor() from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <memory>

#include "domain/config.h"
#include "domain/follower_status.h"
#include "service/metrics_scraper.h"

namespace ficus::proxy {

class FollowerWatch {
 public:
  explicit FollowerWatch(std::function<std::shared_ptr<const Config>()> configured);
  void Start() { scraper_.Start(); }
  void Stop() { scraper_.Stop(); }
  [[nodiscard]] boost::json::value Json() const;
  [[nodiscard]] const FollowerMonitor& monitor() const { return monitor_; }

 private:
  std::function<std::shared_ptr<const Config>()> configured_;
  FollowerMonitor monitor_;
  PeriodicScraper scraper_;
};

}  // namespace ficus::proxy
