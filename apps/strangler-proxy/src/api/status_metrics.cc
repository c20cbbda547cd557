#include "api/status_metrics.h"

#include <string>
#include <utility>
#include <vector>

namespace ficus::proxy {

namespace {

using Samples = std::vector<Sample>;

Samples One(double v) {
  return {Sample{{}, v}};
}

double Num(uint64_t v) {
  return static_cast<double>(v);
}

}  // namespace

void AddServerMetrics(MetricsRegistry& metrics, const http::Server& server) {
  metrics.AddCallbackGauge("ficus_proxy_connections_active", "Client connections open.",
                           [&server] { return Num(server.Counters().connections_active); });
  metrics.AddCallbackGauge("ficus_proxy_requests_in_flight", "Requests being handled.",
                           [&server] { return Num(server.Counters().requests_in_flight); });
  metrics.AddCounterFamily(
      "ficus_proxy_rejected_requests_total",
      "Requests rejected before routing (smuggling shapes, limits, timeouts), by reason.",
      [&server] {
        const auto c = server.Counters();
        Samples out;
        for (std::size_t i = 0; i < http::kRejectReasonCount; ++i) {
          out.push_back({{{"reason", std::string(http::RejectReasonName(
                                         static_cast<http::RejectReason>(i)))}},
                         Num(c.rejected[i])});
        }
        return out;
      });
}

void AddReplayMetrics(MetricsRegistry& metrics, const ReplayLog& replay_log,
                      ConfiguredFn configured) {
  metrics.AddCallbackGauge("ficus_proxy_replay_pending",
                           "Writes in the replay log not yet delivered, all routes.",
                           [&replay_log] { return Num(replay_log.Stats().backlog); });
  metrics.AddCallbackGauge("ficus_proxy_replay_bytes", "Bytes of replay log segments on disk.",
                           [&replay_log] { return Num(replay_log.Stats().bytes); });
  metrics.AddCallbackGauge(
      "ficus_proxy_replay_full",
      "1 when the replay log reached its size bound and refuses appends: alert.",
      [&replay_log] { return replay_log.Stats().full ? 1.0 : 0.0; });
  metrics.AddCounterFamily("ficus_proxy_replay_events_total",
                           "Replayer events by kind (delivered, rejected, retries).",
                           [&replay_log] {
                             const auto s = replay_log.Stats();
                             return Samples{{{{"event", "delivered"}}, Num(s.delivered)},
                                            {{{"event", "rejected"}}, Num(s.rejected)},
                                            {{{"event", "retries"}}, Num(s.retries)}};
                           });
  metrics.AddGaugeFamily(
      "ficus_proxy_replay_backlog",
      "Mirrored writes waiting in the replay log, per route and target backend.",
      [&replay_log, configured = std::move(configured)] {
        const auto s = replay_log.Stats();
        Samples out;
        for (const auto& r : configured()->routes) {
          for (const auto& backend : {r.legacy_backend, r.modern_backend}) {
            auto it = s.backlog_by_target.find({r.name, backend});
            out.push_back({{{"route", r.name}, {"backend", backend}},
                           it == s.backlog_by_target.end() ? 0.0 : Num(it->second)});
          }
        }
        return out;
      });
}

void AddRouteMetrics(MetricsRegistry& metrics, const ControlPlane& control,
                     ConfiguredFn configured) {
  // One sample per route of the running config that the control plane knows.
  auto per_route = [&control, configured = std::move(configured)](auto value) {
    return [&control, configured, value] {
      Samples out;
      for (const auto& r : configured()->routes) {
        if (auto live = control.Live(r.name)) value(out, r.name, *live);
      }
      return out;
    };
  };
  metrics.AddCounterFamily(
      "ficus_proxy_compared_total", "Primary/mirror answers compared.",
      per_route([](Samples& out, const std::string& route, const RouteLive& live) {
        out.push_back({{{"route", route}}, Num(live.mismatch.compared)});
      }));
  metrics.AddCounterFamily(
      "ficus_proxy_mismatches_total", "Compared answers that differed.",
      per_route([](Samples& out, const std::string& route, const RouteLive& live) {
        out.push_back({{{"route", route}}, Num(live.mismatch.mismatched)});
      }));
  metrics.AddCounterFamily(
      "ficus_proxy_not_compared_total",
      "Mirrored answers not compared: too_large = the primary's answer exceeded "
      "compare.max_bytes; transient = the answers differed but both sides agreed when the user "
      "was read again (a write in transit to one side); write_race = raced with a write or "
      "replay of the same user.",
      per_route([](Samples& out, const std::string& route, const RouteLive& live) {
        const std::pair<const char*, uint64_t> reasons[] = {
            {"too_large", live.compare_too_large},
            {"transient", live.compare_transient},
            {"write_race", live.compare_skipped - live.compare_too_large - live.compare_transient}};
        for (const auto& [reason, n] : reasons) {
          out.push_back({{{"route", route}, {"reason", reason}}, Num(n)});
        }
      }));
  metrics.AddGaugeFamily(
      "ficus_proxy_fallback_active",
      "1 while the route is auto-fallen back to legacy (until an operator resets).",
      per_route([](Samples& out, const std::string& route, const RouteLive& live) {
        out.push_back({{{"route", route}}, live.fallback.tripped ? 1.0 : 0.0});
      }));
}

void AddFleetMetrics(MetricsRegistry& metrics, const FleetControl& fleet) {
  metrics.AddCallbackGauge("ficus_proxy_control_store_connected",
                           "1 while the control store (etcd) is reachable; 0: serving the last "
                           "known state, admin changes refused (alert).",
                           [&fleet] { return fleet.connected() ? 1.0 : 0.0; });
  metrics.AddCallbackGauge(
      "ficus_proxy_control_store_down_since_seconds",
      "Unix time since when the control store is unreachable; 0 while reachable.",
      [&fleet] { return static_cast<double>(fleet.down_since_ms()) / 1000.0; });
  metrics.AddCallbackGauge("ficus_proxy_control_store_revision",
                           "The control store revision this replica has applied.",
                           [&fleet] { return static_cast<double>(fleet.State().revision); });
  metrics.AddCallbackGauge("ficus_proxy_fleet_replicas", "Live replicas seen in the control store.",
                           [&fleet] { return Num(fleet.Replicas().size()); });
}

void AddFollowerMetrics(MetricsRegistry& metrics, const FollowerMonitor& follower) {
  metrics.AddGaugeFamily(
      "ficus_proxy_cdc_follower_up",
      "1 while the binlog follower's /metrics (cdc.metrics_url) answers; 0: alert.", [&follower] {
        const auto s = follower.Snapshot();
        if (s.state == FollowerState::kNotConfigured) return Samples{};
        return One(s.state == FollowerState::kUnreachable ? 0 : 1);
      });
  metrics.AddGaugeFamily("ficus_proxy_cdc_lagging",
                         "1 while the binlog follower's lag is over cdc.lag_warn_s (alert).",
                         [&follower] {
                           const auto s = follower.Snapshot();
                           if (s.state == FollowerState::kNotConfigured) return Samples{};
                           return One(s.state == FollowerState::kLagging ? 1 : 0);
                         });
}

void AddAutopilotMetrics(MetricsRegistry& metrics, const AutopilotDriver& autopilot) {
  auto per_group = [&autopilot](auto value) {
    return [&autopilot, value] {
      Samples out;
      for (const auto& g : autopilot.Gauges()) out.push_back({{{"group", g.group}}, value(g)});
      return out;
    };
  };
  using G = AutopilotDriver::GroupGauge;
  metrics.AddGaugeFamily(
      "ficus_proxy_autopilot_step",
      "Autopilot plan step of a route group (0 shadow, 1.. canary steps, last full).",
      per_group([](const G& g) { return static_cast<double>(g.step); }));
  metrics.AddGaugeFamily("ficus_proxy_autopilot_running",
                         "1 while an autopilot plan drives the route group; 0 paused, done or "
                         "aborted (a paused plan waits for a human: alert).",
                         per_group([](const G& g) { return g.running ? 1.0 : 0.0; }));
  metrics.AddGaugeFamily(
      "ficus_proxy_autopilot_failures",
      "Gate failures of the route group's autopilot run since its last resume (a level: a "
      "resume sets it back to 0).",
      per_group([](const G& g) { return static_cast<double>(g.failures); }));
  metrics.AddCounterFamily("ficus_proxy_autopilot_notifications_total",
                           "Autopilot webhook notifications by outcome.", [&autopilot] {
                             const auto n = autopilot.notify_counts();
                             return Samples{{{{"outcome", "sent"}}, Num(n.sent)},
                                            {{{"outcome", "failed"}}, Num(n.failed)},
                                            {{{"outcome", "dropped"}}, Num(n.dropped)}};
                           });
}

}  // namespace ficus::proxy
