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
// (serialised).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/config.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct RouteChange {
  std::optional<Mode> mode;
  std::optional<uint32_t> percent_bp;
  std::optional<bool> paused;
  [[nodiscard]] bool empty() const { return !mode && !percent_bp && !paused; }
};

class RouteStore {
 public:
  virtual ~RouteStore() = default;
  virtual Status Apply(const std::vector<std::string>& routes, const RouteChange& change) = 0;
};

}  // namespace ficus::proxy
