#include "domain/cdc/stamp_sequencer.h"

namespace ficus::migrator::cdc {

void StampSequencer::Sequence(std::vector<AttributeChange>& changes) {
  std::string id;
  for (auto& c : changes) {
    id.assign(c.user_id);
    id.push_back('\0');
    id.append(c.key);
    auto [it, fresh] = last_.try_emplace(id, c.ts_us);
    if (fresh) continue;
    if (c.implied && c.ts_us <= it->second) c.ts_us = it->second + 1;
    it->second = std::max(it->second, c.ts_us);
  }
  if (last_.size() > max_keys_) last_.clear();
}

}  // namespace ficus::migrator::cdc
