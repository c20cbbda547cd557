// Verify: proves parity between MySQL and the new store, user by user.
//
// Readers page through MySQL (all users, or a sample: sampler.h); workers
// GET each user from the writer and compare live attributes
// (profile_compare.h). A mismatch is never reported from one look: both
// sides are re-read, and while either side's updated_at keeps changing (a
// live write landed during the scan) the fresh pair is compared again, up to
// reread_attempts times. What still differs is reported through on_mismatch
// as one JSON object (a JSON-lines record) and counted.
//
// With repair, a reported user is rewritten from the side with the newer
// updated_at:
//  - legacy newer (or missing in the new store): the legacy state is sent to
//    the writer with its per-key timestamps (as backfill does), plus
//    tombstones at the legacy updated_at for keys the writer has and legacy
//    never had;
//  - writer newer (or missing in legacy): the differing keys are written
//    through the legacy API (`legacy_api`, POST /api/v1/profile/update with
//    X-Ficus-Timestamp = the writer's updated_at: the monolith's own merge,
//    and its cache invalidated), or, only with legacy_direct_sql, to MySQL in
//    one transaction with the same LWW rule (LegacyStore::ApplyUpdates; the
//    monolith's cache may then serve the old profile for up to 300 s).
//    Without either the repair is refused and reported;
//  - equal updated_at with different values (a store edited behind the
//    API's back): MySQL is the system of record until cutover, so its live
//    values are written to the writer stamped updated_at + 1 us.
// The user is then re-read and counted as repaired only if both sides agree.
// Never repaired: a legacy row whose id is not canonical lowercase (kind
// non_canonical_id: nobody can see it through the legacy API), and a
// difference in updated_at alone (kind updated_at: neither API can move
// updated_at without writing a key).
// Reads of the writer: with its bulk read (ModernStore::HasBulk), one
// request per batch_users users; else one GET per user.
// Thread-safety: Run() is called once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "domain/sampler.h"
#include "ficus/clock.h"
#include "ficus/result.h"
#include "model/legacy_store.h"
#include "model/modern_store.h"
#include "service/progress.h"
#include "service/rate_limiter.h"

namespace ficus::migrator {

struct VerifyOptions {
  int partitions = 4;
  int workers = 16;
  int chunk_size = 500;
  SampleSpec sample;
  bool repair = false;
  int reread_attempts = 3;
  std::int64_t reread_delay_us = 100'000;
  bool use_bulk = true;
  int batch_users = 500;
  int bulk_workers = 4;            // workers when the bulk path is used
  bool legacy_direct_sql = false;  // repairs towards legacy straight into MySQL
};

struct VerifySummary {
  std::int64_t legacy_profiles = 0;  // profiles in MySQL (COUNT(*) at the start)
  std::int64_t checked = 0;          // users compared
  std::int64_t matched = 0;
  std::int64_t mismatched = 0;  // reported (after re-reads)
  std::int64_t missing_in_modern = 0;
  std::int64_t missing_in_legacy = 0;
  std::int64_t attribute_mismatches = 0;
  std::int64_t updated_at_mismatches = 0;  // same live attributes, different updated_at
  std::int64_t non_canonical = 0;          // legacy rows with a non-canonical id (never repaired)
  std::int64_t settled_on_reread = 0;      // differed at first, equal after a re-read
  std::int64_t legacy_attributes = 0;      // live attributes seen on each side
  std::int64_t modern_attributes = 0;
  std::int64_t repaired = 0;
  std::int64_t repair_failed = 0;
  std::int64_t errors = 0;  // users that could not be checked (store errors)
  bool interrupted = false;
  bool bulk = false;  // the writer's bulk read was used
  double seconds = 0;
};

class Verify {
 public:
  // `legacy_api`: the legacy monolith's profile API (same interface as the
  // writer's single-update API), for repairs towards legacy; may be empty.
  Verify(VerifyOptions options, LegacyStoreFactory legacy, ModernStoreFactory modern, Clock& clock,
         RateLimiter& limiter, Progress& progress, const std::atomic<bool>& stop,
         std::function<void(const std::string& json_line)> on_mismatch,
         ModernStoreFactory legacy_api = {});

  // Fatal errors (MySQL or writer unreachable) are returned as the error.
  Result<VerifySummary> Run();
  [[nodiscard]] const VerifySummary& summary() const { return summary_; }

 private:
  VerifyOptions options_;
  LegacyStoreFactory legacy_;
  ModernStoreFactory modern_;
  ModernStoreFactory legacy_api_;
  Clock& clock_;
  RateLimiter& limiter_;
  Progress& progress_;
  const std::atomic<bool>& stop_;
  std::function<void(const std::string&)> on_mismatch_;
  VerifySummary summary_;
};

}  // namespace ficus::migrator
