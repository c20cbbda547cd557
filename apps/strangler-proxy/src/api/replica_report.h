// This replica's report to the fleet (domain/fleet_report.h), built from
// the live state of every route of the running config: the control plane's
// live window and totals, and the replay backlog towards each side. The
// control store publishes it every second (model/etcd_control_store.h).
// Thread-safe (reads only thread-safe accessors).
#pragma once

#include <string>

#include "domain/config.h"
#include "domain/control_plane.h"
#include "domain/fleet_report.h"
#include "domain/replay_log.h"

namespace ficus::proxy {

// `admin`: host:port of this replica's admin listener.
ReplicaReport BuildReplicaReport(std::string admin, const Config& running,
                                 const ControlPlane& control, const ReplayLog& replay_log);

}  // namespace ficus::proxy
