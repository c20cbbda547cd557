// The per-key last-write-wins rule both stores implement (CONTRACT.md,
// "Timestamps and merge"): the newer timestamp wins; on equal timestamps a
// tombstone beats a value, and between two values the bytewise greater wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ficus::migrator {

// True when a write (ts, value) replaces the stored (old_ts, old_value).
// Equal writes return false (nothing to do).
inline bool LwwWins(std::int64_t ts, const std::optional<std::string>& value, std::int64_t old_ts,
                    const std::optional<std::string>& old_value) {
  if (ts != old_ts) return ts > old_ts;
  if (!value) return old_value.has_value();
  if (!old_value) return false;
  return *value > *old_value;
}

}  // namespace ficus::migrator
