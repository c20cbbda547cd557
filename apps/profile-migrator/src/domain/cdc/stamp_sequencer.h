// StampSequencer: keeps the implied stamps of successive changes of one key
// in binlog order.
//
// A change whose row did not set a stamp (a bare `UPDATE ... SET
// attr_value = ...`, a key deleted by SQL) gets ImpliedTimestamp: the event
// time in whole seconds, at least the row's old stamp + 1. Two such changes
// of the same key in the same second (the row's stamp unchanged between
// them) would get the SAME stamp, and the writer's tie rule (not binlog
// order) would pick the winner: the later value could be lost. Sequence()
// raises an implied stamp to at least the previous stamp of that key + 1
// (any change's, in the order the changes are given), so the later one
// wins. Explicit stamps are never changed.
//
// The memory is per process and bounded (cleared past `max_keys` keys):
// after a restart, or past the bound, two bare updates of one key in the
// same second that straddle it can still tie (verify --repair finds and
// fixes such a user). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/cdc/profile_changes.h"

namespace ficus::migrator::cdc {

class StampSequencer {
 public:
  explicit StampSequencer(std::size_t max_keys = 1'000'000) : max_keys_(max_keys) {}

  // Rewrites the implied stamps of `changes` (binlog order) in place.
  void Sequence(std::vector<AttributeChange>& changes);

 private:
  std::size_t max_keys_;
  std::unordered_map<std::string, std::int64_t> last_;  // user '\0' key -> last stamp
};

}  // namespace ficus::migrator::cdc
