// RouteStore: where operator changes of a route (mode, canary percent,
// pause) are made durable (role interface; model/yaml_route_store.h writes
// them into the proxy's YAML file, which every replica watches).
//
// Contract: Apply() sets the same change on every route of `routes` (a route
// group, domain/route_group.h) in ONE durable write: either all of them
// change or none does. It validates the whole resulting config before
// anything is written (kInvalidArgument with the key path of the problem),
// fails with kNotFound for an unknown route and kUnavailable/kInternal when
// the file cannot be read or written; on success the change is on disk
// (atomically replaced, fsync'd) and the caller reloads. Thread-safe
// (serialised). A store with revisions (model/etcd_control_store.h) makes
// the group's change one transaction that compares every route's revision
// (RouteChange::expect_revision) and fails with kConflict naming the
// winner's revision when one was written since, kUnavailable when the store
// cannot be reached.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/config.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct RouteChange {
  std::optional<Mode> mode;
  std::optional<uint32_t> percent_bp;
  std::optional<bool> paused;
  // Who asks (token name), for stores that record it (etcd).
  std::string actor;
  // The store revision the caller saw (HTTP If-Match); a store with
  // revisions (etcd) refuses the change with kConflict when the route was
  // written since. nullopt: the revision this replica has applied.
  std::optional<int64_t> expect_revision;
  [[nodiscard]] bool empty() const { return !mode && !percent_bp && !paused; }
};

class RouteStore {
 public:
  virtual ~RouteStore() = default;
  virtual Status Apply(const std::vector<std::string>& routes, const RouteChange& change) = 0;
  // The store revision of the route's last change (0: none, or the store has
  // no revisions: the YAML file).
  virtual int64_t Revision(std::string_view /*route*/) const { return 0; }
};

}  // namespace ficus::proxy
