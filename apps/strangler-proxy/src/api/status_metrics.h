// The proxy's metrics that are read from its parts at scrape time
// (ficus_proxy_*): each Add*Metrics() declares one part's families in one
// place. Running totals kept elsewhere are counters named *_total; levels
// are gauges. Per-route families follow the running config: a route that
// leaves the config leaves /metrics.
//
// Call each once, at startup, before the admin listener serves /metrics. The
// registry keeps references to the parts: they must outlive its last
// Render(). The callbacks run on the scraping thread and only read (each
// part's own accessors are thread-safe).
#pragma once

#include <functional>
#include <memory>

#include "api/autopilot_driver.h"
#include "domain/config.h"
#include "domain/control_plane.h"
#include "domain/fleet_control.h"
#include "domain/follower_status.h"
#include "domain/replay_log.h"
#include "ficus/http/server.h"
#include "ficus/metrics.h"

namespace ficus::proxy {

using ConfiguredFn = std::function<std::shared_ptr<const Config>()>;

// Client connections and requests in flight (gauges); requests rejected
// before routing, by reason (ficus_proxy_rejected_requests_total).
void AddServerMetrics(MetricsRegistry& metrics, const http::Server& server);

// The replay log: backlog (all, and per route and target backend of the
// running config), bytes, full; replayer events (delivered, rejected,
// retries) as ficus_proxy_replay_events_total.
void AddReplayMetrics(MetricsRegistry& metrics, const ReplayLog& replay_log,
                      ConfiguredFn configured);

// Per route of the running config: answers compared, mismatches and answers
// not compared by reason (counters), fallback active (gauge).
void AddRouteMetrics(MetricsRegistry& metrics, const ControlPlane& control,
                     ConfiguredFn configured);

// The control store (etcd): connected, down since, revision, live replicas.
void AddFleetMetrics(MetricsRegistry& metrics, const FleetControl& fleet);

// The binlog follower as scraped (cdc.metrics_url): up and lagging; no
// series while cdc is not configured.
void AddFollowerMetrics(MetricsRegistry& metrics, const FollowerMonitor& follower);

// Autopilot: per route group step, running, gate failures since the last
// resume (gauges); webhook notifications by outcome (counter).
void AddAutopilotMetrics(MetricsRegistry& metrics, const AutopilotDriver& autopilot);

}  // namespace ficus::proxy
