// Check: the pre-flight of a backfill (`profile-migrator check`). Reads every
// legacy profile (key order, one consistent-snapshot chunk at a time) and
// reports what the new store cannot take or what looks wrong
// (legacy_rules.h: non-canonical ids, keys, values and stamps outside the
// contract, absurd stamps) and attribute rows without a profiles row
// (orphans: never migrated). Changes nothing.
//
// Each finding goes to on_finding as one JSON object (a JSON-lines record:
// user_id, kind, key, detail, blocking). Thread-safety: Run() is called once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "ficus/clock.h"
#include "ficus/result.h"
#include "model/legacy_store.h"
#include "service/progress.h"

namespace ficus::migrator {

struct CheckOptions {
  int chunk_size = 2000;
  int max_orphan_users = 100000;  // orphan users listed at most
  std::int64_t now_us = 0;        // wall-clock microseconds ("future" stamps); required
};

struct CheckSummary {
  std::int64_t legacy_profiles = 0;
  std::int64_t scanned = 0;
  std::int64_t blocked_users = 0;  // users backfill will refuse (a blocking finding)
  std::int64_t warnings = 0;       // non-blocking findings
  std::int64_t orphan_users = 0;   // users with attribute rows but no profiles row
  std::map<std::string, std::int64_t> by_kind;
  bool interrupted = false;
  double seconds = 0;
  [[nodiscard]] bool clean() const { return blocked_users == 0 && orphan_users == 0; }
};

class Check {
 public:
  Check(CheckOptions options, LegacyStoreFactory legacy, Clock& clock, Progress& progress,
        const std::atomic<bool>& stop, std::function<void(const std::string&)> on_finding);
  // Fatal errors (MySQL unreachable) are returned as the error.
  Result<CheckSummary> Run();

 private:
  CheckOptions options_;
  LegacyStoreFactory legacy_;
  Clock& clock_;
  Progress& progress_;
  const std::atomic<bool>& stop_;
  std::function<void(const std::string&)> on_finding_;
};

}  // namespace ficus::migrator
