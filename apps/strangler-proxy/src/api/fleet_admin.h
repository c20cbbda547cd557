// FleetAdmin: the fleet (control.store: etcd) as the admin API shows and
// guards it: per-route rows of every replica and their totals
// (/admin/routes "fleet"), the control store's state (/admin/status
// "control"), the backlog the OTHER replicas report towards a backend (the
// 409 guard sums the fleet: this replica's own backlog is counted live), and
// the fleet-wide fallback reset. Thread-safe (FleetControl is).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "api/live_config.h"
#include "domain/fleet_control.h"

namespace ficus::proxy {

class FleetAdmin {
 public:
  FleetAdmin(FleetControl& fleet, std::string replica_id, const LiveConfig& config)
      : fleet_(fleet), replica_id_(std::move(replica_id)), config_(config) {}

  [[nodiscard]] uint64_t Backlog(const std::string& route, const std::string& backend) const;
  [[nodiscard]] boost::json::value RouteJson(const std::string& route) const;
  [[nodiscard]] boost::json::value ControlJson() const;
  Status ResetFallback(const std::vector<std::string>& group) { return fleet_.ClearTrips(group); }

 private:
  FleetControl& fleet_;
  const std::string replica_id_;
  const LiveConfig& config_;
};

}  // namespace ficus::proxy
