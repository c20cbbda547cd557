// ModernStore: the new profile store, reached through the running profile
// writer's public API (it owns the embedded RocksDB).
//
// One instance owns one keep-alive connection and is NOT thread-safe; use a
// ModernStoreFactory per worker. Transient failures (connection refused or
// reset, 503, 500) are retried with backoff inside, up to the configured
// deadline, then returned as Unavailable. Errors: NotFound (Get: no profile),
// InvalidArgument (the writer rejected the request: 4xx, message is its msg),
// Unavailable, Internal (unparseable answer).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

class ModernStore {
 public:
  virtual ~ModernStore() = default;
  virtual Result<ModernProfile> Get(const std::string& user_id) = 0;
  // Sends one update with X-Ficus-Timestamp = update.ts_us.
  virtual Status Apply(const ProfileUpdate& update) = 0;
  [[nodiscard]] virtual std::string Describe() const = 0;
};

using ModernStoreFactory = std::function<Result<std::unique_ptr<ModernStore>>()>;

}  // namespace ficus::migrator
