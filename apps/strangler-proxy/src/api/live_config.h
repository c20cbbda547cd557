// LiveConfig: the one owner of the configuration a running proxy serves.
//
// It holds the config as configured: the source's (the YAML file), with the
// fleet's route state laid over it when there is a fleet (control.store:
// etcd). The proxy runs that config with the control plane's fallback
// overrides (ControlPlane::Effective); every apply is a new generation
// (Proxy::SetConfig).
//
//   Start(proxy)      first apply (generation 1); error: rejected, exit 2.
//   Reload(why)       read the source again and apply it. A config that the
//                     source, the control plane or the proxy rejects changes
//                     nothing: error, counted as rejected, old one in force.
//   Reapply()         the fallback state changed: same config, new
//                     generation.
//   OnTrip(r, why)    a route tripped (any thread): re-applied on the control
//                     loop and published to the fleet.
//   OnFleetChange()   the fleet's state changed (any thread): on the control
//                     loop, fleet trips are followed (and resets of them),
//                     then the config is reloaded with the new overlay.
//   PollSource()      on the control loop: reload when the source changed.
//
// Threads: Configured() from any thread; Reload()/Reapply() are serialized
// (the control loop and the admin loop both call them).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "api/proxy.h"
#include "domain/config_source.h"
#include "domain/control_plane.h"
#include "domain/fleet_control.h"
#include "ficus/metrics.h"

namespace ficus::proxy {

class LiveConfig {
 public:
  // `first`: the source's first Load(). `fleet` may be attached later
  // (AttachFleet), before Start().
  LiveConfig(ConfigSource& source, std::shared_ptr<const Config> first, ControlPlane& control,
             MetricsRegistry& metrics, boost::asio::any_io_executor control_loop);
  LiveConfig(const LiveConfig&) = delete;
  LiveConfig& operator=(const LiveConfig&) = delete;

  void AttachFleet(FleetControl* fleet, std::string replica_id);
  Status Start(Proxy& proxy);

  [[nodiscard]] std::shared_ptr<const Config> Configured() const;
  Status Reload(std::string_view why);
  void Reapply();
  void OnTrip(const std::string& route, const std::string& reason);
  void OnFleetChange();
  void PollSource();

 private:
  std::shared_ptr<const Config> Overlay(std::shared_ptr<const Config> c) const;
  void FollowFleetTrips();  // control loop
  Counter& Reloads(const char* result);

  ConfigSource& source_;
  ControlPlane& control_;
  MetricsRegistry& metrics_;
  boost::asio::any_io_executor loop_;
  FleetControl* fleet_ = nullptr;
  std::string replica_id_;
  Proxy* proxy_ = nullptr;

  std::mutex apply_mu_;  // serializes Reload/Reapply (source_ is used under it)
  mutable std::mutex config_mu_;
  std::shared_ptr<const Config> configured_;
  std::set<std::string> fleet_trips_;  // control loop only
};

}  // namespace ficus::proxy
