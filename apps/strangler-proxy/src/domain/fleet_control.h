// FleetControl: the fleet's shared control state as this replica sees it
// (control.store: etcd; model/etcd_control_store.h). State(): the routes'
// operator settings and the fleet-wide trips as of the last revision seen.
// PublishTrip(): tell every replica that `route` tripped (Error while the
// store is unreachable: it is published once the store is back).
// ClearTrips(): an operator reset the fleet-wide fallback of these routes.
// Replicas(): the live replicas' last reports. connected()/down_since_ms():
// whether the store is reachable (Unix ms since when it is not; 0 while it
// is). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/control_state.h"
#include "domain/fleet_report.h"
#include "ficus/result.h"

namespace ficus::proxy {

class FleetControl {
 public:
  virtual ~FleetControl() = default;
  [[nodiscard]] virtual ControlState State() const = 0;
  virtual Status PublishTrip(const std::string& route, const FleetTrip& trip) = 0;
  virtual Status ClearTrips(const std::vector<std::string>& routes) = 0;
  [[nodiscard]] virtual std::vector<ReplicaReport> Replicas() const = 0;
  [[nodiscard]] virtual bool connected() const = 0;
  [[nodiscard]] virtual int64_t down_since_ms() const = 0;
};

}  // namespace ficus::proxy
