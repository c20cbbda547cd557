// ControlState: the operator-set state of the routes that a fleet of proxy
// replicas shares through a control store (control.store: etcd), and the
// pure functions that turn it into the config a replica runs.
//
// Model: the YAML file gives every route's definition and its initial mode,
// percent and pause; a RouteSetting in the store (one per route, written by
// an admin change on any replica) overrides those three fields. A FleetTrip
// is an auto-fallback that some replica tripped and every replica follows
// until an operator resets it. Each entry carries the store revision at
// which it was last written (etcd mod_revision): an admin change compares
// against it, so of two concurrent changes exactly one wins.
//
// Encoding (values in the store): compact JSON objects,
//   route:  {"mode":"canary","percent_bp":1000,"paused":false,"actor":"ops","replica":"a","at":ms}
//   trip:   {"since":ms,"reason":"...","replica":"a"}
// Decode errors name the key and the field. No I/O; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "domain/config.h"
#include "domain/route_store.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct RouteSetting {
  Mode mode = Mode::kLegacy;
  uint32_t percent_bp = 0;
  bool paused = false;
  std::string actor;    // token name of who changed it
  std::string replica;  // replica that wrote it
  int64_t at_ms = 0;
  int64_t revision = 0;  // store revision of the write (not encoded)
};

struct FleetTrip {
  int64_t since_ms = 0;
  std::string reason;
  std::string replica;
  int64_t revision = 0;
};

struct ControlState {
  int64_t revision = 0;  // the store revision this state is as of
  std::map<std::string, RouteSetting, std::less<>> routes;
  std::map<std::string, FleetTrip, std::less<>> trips;
};

std::string EncodeRouteSetting(const RouteSetting& s);
Result<RouteSetting> DecodeRouteSetting(std::string_view json, std::string_view key);
std::string EncodeFleetTrip(const FleetTrip& t);
Result<FleetTrip> DecodeFleetTrip(std::string_view json, std::string_view key);

// The setting a route has now (its stored one, else the file's fields).
RouteSetting CurrentSetting(const Route& file_route, const ControlState& s);
// `current` with the change applied (fields the change leaves out are kept).
RouteSetting ApplyChange(RouteSetting current, const RouteChange& change);

// `file` with every route that has a setting overridden by it (settings of
// routes the file does not have are ignored). Returns `file` itself when
// nothing differs.
std::shared_ptr<const Config> OverlayControlState(const std::shared_ptr<const Config>& file,
                                                  const ControlState& s);

}  // namespace ficus::proxy
