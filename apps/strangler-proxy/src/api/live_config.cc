#include "api/live_config.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "ficus/clock.h"

namespace ficus::proxy {

namespace {

int64_t UnixMs() {
  return UnixMillis(SystemClock::WallNow());
}

}  // namespace

LiveConfig::LiveConfig(ConfigSource& source, std::shared_ptr<const Config> first,
                       ControlPlane& control, MetricsRegistry& metrics,
                       boost::asio::any_io_executor control_loop)
    : source_(source),
      control_(control),
      metrics_(metrics),
      loop_(std::move(control_loop)),
      configured_(std::move(first)) {
  Reloads("ok");
  Reloads("rejected");
}

Counter& LiveConfig::Reloads(const char* result) {
  return metrics_.GetCounter("ficus_proxy_config_reloads_total",
                             "Config reload attempts by result (ok, rejected).",
                             {{"result", result}});
}

void LiveConfig::AttachFleet(FleetControl* fleet, std::string replica_id) {
  fleet_ = fleet;
  replica_id_ = std::move(replica_id);
  std::lock_guard lock(config_mu_);
  configured_ = Overlay(configured_);
}

std::shared_ptr<const Config> LiveConfig::Overlay(std::shared_ptr<const Config> c) const {
  return fleet_ ? OverlayControlState(c, fleet_->State()) : std::move(c);
}

std::shared_ptr<const Config> LiveConfig::Configured() const {
  std::lock_guard lock(config_mu_);
  return configured_;
}

Status LiveConfig::Start(Proxy& proxy) {
  proxy_ = &proxy;
  const auto cfg = Configured();
  if (auto s = control_.Configure(*cfg); !s) return s;
  if (auto s = proxy.SetConfig(control_.Effective(cfg)); !s) return s;
  if (fleet_) {
    // Trips the fleet holds already (another replica fell back before this
    // one started).
    for (const auto& [name, t] : fleet_->State().trips) {
      control_.Trip(name, t.since_ms, "fleet: " + t.reason + " (replica " + t.replica + ")");
      fleet_trips_.insert(name);
    }
    if (!fleet_trips_.empty()) Reapply();
  }
  return {};
}

Status LiveConfig::Reload(std::string_view why) {
  std::lock_guard lock(apply_mu_);
  auto next = source_.Load();
  if (next) next = Overlay(*next);
  auto reject = [&](const Error& e) -> Status {
    Reloads("rejected").Inc();
    spdlog::error("reload ({}) rejected, keeping generation {}: {}", why,
                  proxy_->runtime()->generation, e.message);
    return tl::unexpected(e);
  };
  if (!next) return reject(next.error());
  const auto& old_cfg = *proxy_->runtime()->config;
  if ((*next)->listen.ToString() != old_cfg.listen.ToString() ||
      (*next)->admin_listen.ToString() != old_cfg.admin_listen.ToString()) {
    spdlog::warn("reload ({}): listen addresses change only on restart", why);
  }
  if (auto s = control_.Configure(**next); !s) return reject(s.error());
  {
    std::lock_guard config_lock(config_mu_);
    if (auto s = proxy_->SetConfig(control_.Effective(*next)); !s) return reject(s.error());
    configured_ = *next;
  }
  Reloads("ok").Inc();
  spdlog::info("reload ({}): config generation {} in force ({} routes)", why,
               proxy_->runtime()->generation, (*next)->routes.size());
  return {};
}

void LiveConfig::Reapply() {
  std::lock_guard lock(apply_mu_);
  if (auto s = proxy_->SetConfig(control_.Effective(Configured())); !s) {
    spdlog::error("re-applying config generation failed: {}", s.error().message);
    return;
  }
  spdlog::info("config re-applied (fallback state changed): generation {}",
               proxy_->runtime()->generation);
}

void LiveConfig::OnTrip(const std::string& route, const std::string& reason) {
  boost::asio::post(loop_, [this, route, reason] {
    Reapply();
    if (!fleet_) return;
    // Fleet-wide: every replica follows this trip (published when the store
    // is back if it is down now).
    const FleetTrip trip{UnixMs(), reason, replica_id_, 0};
    if (auto st = fleet_->PublishTrip(route, trip); !st) {
      spdlog::warn("control: fallback of {} not yet published to the fleet: {}", route,
                   st.error().message);
    }
  });
}

void LiveConfig::OnFleetChange() {
  boost::asio::post(loop_, [this] { FollowFleetTrips(); });
}

void LiveConfig::FollowFleetTrips() {
  const auto st = fleet_->State();
  std::set<std::string> now;
  for (const auto& [name, t] : st.trips) {
    now.insert(name);
    if (control_.Trip(name, t.since_ms, "fleet: " + t.reason + " (replica " + t.replica + ")")) {
      spdlog::warn("AUTO-FALLBACK route {} (fleet, tripped by replica {}): {}", name, t.replica,
                   t.reason);
    }
  }
  for (const auto& name : fleet_trips_) {
    if (!now.count(name) && control_.Tripped(name)) {
      (void)control_.ResetFallback(name);
      spdlog::info("route {}: fleet-wide fallback reset", name);
    }
  }
  fleet_trips_ = std::move(now);
  (void)Reload("control store revision " + std::to_string(st.revision));
}

void LiveConfig::PollSource() {
  bool changed = false;
  {
    std::lock_guard lock(apply_mu_);
    changed = source_.Changed();
  }
  if (changed) (void)Reload("file changed");
}

}  // namespace ficus::proxy
