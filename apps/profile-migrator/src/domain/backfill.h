// Backfill: copies every legacy profile into the new store through the
// profile writer, resumably.
//
// Pipeline: one reader thread per key-range partition pages through MySQL in
// primary-key order (chunk_size users per consistent-snapshot read) and
// queues users; `workers` threads, each with its own keep-alive connection
// to the writer, turn a user into its timestamped updates (update_planner.h)
// and send them: with the writer's bulk import (ModernStore::HasBulk), up
// to batch_users users per request (atomic=user: a user is applied whole or
// not at all, one group commit per request); else, for an older writer or
// without a token, one update request at a time. Every group of a user is
// checked against the contract before any is sent (legacy_rules.h), so a
// user is migrated whole or not at all on both paths. Completion is tracked per chunk; the
// checkpoint records, per partition, the low-water mark below which every user is acknowledged, and
// is saved atomically every checkpoint_interval and at the end (also on Ctrl-C / SIGTERM via the
// stop flag, and on a fatal error).
//
// Failure policy:
//  - a user the writer rejects (4xx: e.g. a legacy key the contract forbids)
//    or that cannot be planned is a permanent failure: reported through
//    on_failure, counted, and passed (its chunk still completes);
//  - the writer or MySQL unavailable past the retry deadline is fatal: the
//    run stops, the checkpoint stays behind the failed user, Run() returns
//    the error; resuming later repeats only unacknowledged work.
// Thread-safety: Run() is called once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "ficus/clock.h"
#include "ficus/result.h"
#include "model/legacy_store.h"
#include "model/modern_store.h"
#include "service/progress.h"
#include "service/rate_limiter.h"

namespace ficus::migrator {

struct BackfillOptions {
  int partitions = 4;
  int workers = 64;
  int chunk_size = 500;
  std::int64_t checkpoint_interval_us = 1'000'000;
  bool restart = false;   // ignore an existing checkpoint
  int batch_users = 500;  // users per bulk import request
  int bulk_workers = 4;   // workers when the bulk path is used
  bool use_bulk = true;   // false: always the per-update API
};

// Checkpoint persistence, injected (the domain does no file I/O).
struct CheckpointIo {
  std::string origin;                         // path, for messages
  std::function<Result<std::string>()> load;  // NotFound when there is none
  std::function<Status(const std::string&)> save;
};

struct BackfillSummary {
  std::int64_t legacy_profiles = 0;  // COUNT(*) at the start
  std::int64_t resumed_from = 0;     // profiles already done per the checkpoint
  std::int64_t processed = 0;        // profiles handled in this run
  std::int64_t written = 0;          // profiles whose updates were all acknowledged
  std::int64_t updates_sent = 0;     // updates acknowledged by the writer
  std::int64_t requests = 0;         // HTTP requests that carried them
  bool bulk = false;                 // the bulk import path was used
  std::int64_t empty = 0;            // profiles with no attribute rows (nothing to write)
  std::int64_t failed = 0;           // permanent failures (see on_failure)
  bool complete = false;             // every partition finished
  bool interrupted = false;          // stopped by the stop flag
  double seconds = 0;
};

class Backfill {
 public:
  Backfill(BackfillOptions options, LegacyStoreFactory legacy, ModernStoreFactory modern,
           CheckpointIo checkpoint, Clock& clock, RateLimiter& limiter, Progress& progress,
           const std::atomic<bool>& stop,
           std::function<void(const std::string& user_id, const std::string& error)> on_failure);

  // Fatal errors (bad checkpoint, database or writer unreachable) are returned
  // as the error; the summary of partial work is still logged by the caller
  // from summary() in that case.
  Result<BackfillSummary> Run();
  [[nodiscard]] const BackfillSummary& summary() const { return summary_; }

 private:
  BackfillOptions options_;
  LegacyStoreFactory legacy_;
  ModernStoreFactory modern_;
  CheckpointIo checkpoint_;
  Clock& clock_;
  RateLimiter& limiter_;
  Progress& progress_;
  const std::atomic<bool>& stop_;
  std::function<void(const std::string&, const std::string&)> on_failure_;
  BackfillSummary summary_;
};

}  // namespace ficus::migrator
