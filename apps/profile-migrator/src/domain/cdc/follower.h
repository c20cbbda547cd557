// Follower: applies every committed change of the legacy profile tables,
// read from MariaDB's binlog, to the new store; resumable, gap-free.
//
// Threads: a reader thread owns the BinlogSource and a BinlogStream and
// queues committed transactions (bounded by `queue_rows`: a slow writer
// back-pressures the reader, lag grows); Run()'s thread takes batches of
// transactions (up to `max_batch_rows`, or what came within
// `max_batch_wait_ms`), plans them into writer updates (change_planner.h),
// applies them, then saves the checkpoint: the GTID position after the
// batch's last transaction. So the checkpoint never passes a change the
// writer has not acknowledged; after a crash (kill -9) the follower resumes
// from it and re-sends at most one batch, which LWW makes harmless.
//
// Faults: writer unreachable -> the batch is retried with exponential
// backoff (retry_initial_ms .. retry_max_ms) until it succeeds or Stop;
// binlog connection lost -> reconnect with the same backoff from the
// position after the last queued transaction; the server no longer has
// the checkpoint's binlog (purged) -> Run fails with PreconditionFailed
// naming the missing GTID position and telling to backfill again; a
// malformed or unknown event, or a profile change it cannot apply -> the
// transactions before it are applied and checkpointed, then Run fails with
// the decoder's message. DDL and other tables' rows are skipped (counted).
// Updates the writer refuses (4xx) go to `on_rejected` and are counted,
// never dropped silently; with stop_on_reject Run then fails (InvalidArgument)
// without checkpointing the batch.
//
// Run returns OK when `stop` becomes true (after finishing the batch in
// hand and saving its checkpoint).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "domain/cdc/binlog_stream.h"
#include "domain/cdc/follow_state.h"
#include "domain/cdc/gtid.h"
#include "ficus/clock.h"
#include "ficus/metrics.h"
#include "model/binlog_source.h"
#include "model/change_applier.h"
#include "model/stamp_journal.h"

namespace ficus::migrator::cdc {

struct FollowerOptions {
  ProfileTables tables;
  std::size_t max_batch_rows = 20'000;
  std::int64_t max_batch_wait_ms = 5;
  std::size_t queue_rows = 200'000;
  std::int64_t retry_initial_ms = 100;
  std::int64_t retry_max_ms = 5'000;
  std::string source;  // for the checkpoint's "source" field
  // An update the writer refuses (4xx): false = record it (on_rejected,
  // counted) and go on; true = record it, then stop before the batch's
  // checkpoint, naming the batch's GTIDs, the user and the writer's message.
  bool stop_on_reject = false;
};

// Live figures for /metrics and logs; every field readable from any thread.
struct FollowerMetrics {
  std::atomic<std::uint64_t> events_total{0};
  std::atomic<std::uint64_t> rows_applied_total{0};
  std::atomic<std::uint64_t> transactions_applied_total{0};
  std::atomic<std::uint64_t> updates_sent_total{0};
  std::atomic<std::uint64_t> updates_rejected_total{0};
  std::atomic<std::uint64_t> apply_calls_total{0};  // Apply calls acknowledged (bulk: 1+ requests)
  std::atomic<std::uint64_t> rows_other_tables_total{0};
  std::atomic<std::uint64_t> ddl_skipped_total{0};
  std::atomic<std::uint64_t> writer_retries_total{0};
  std::atomic<std::uint64_t> reconnects_total{0};
  std::atomic<std::uint64_t> checkpoints_total{0};
  std::atomic<std::uint64_t> pending_rows{0};      // read, not yet acknowledged
  std::atomic<std::int64_t> oldest_pending_us{0};  // event time of the oldest pending, 0 = none
  std::atomic<std::int64_t> last_applied_event_us{0};
  std::atomic<int> connected{0};
  std::atomic<int> writer_ok{1};
  // Age of each applied change by its own stamp, at acknowledgement (s).
  Histogram change_age{{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60}};

  void SetLastGtid(std::string g) {
    std::lock_guard<std::mutex> lock(mu_);
    last_gtid_ = std::move(g);
  }
  std::string LastGtid() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_gtid_;
  }
  // "bulk" or "single": how the writer is reached ("" until known).
  void SetApplyPath(std::string p) {
    std::lock_guard<std::mutex> lock(mu_);
    apply_path_ = std::move(p);
  }
  std::string ApplyPath() const {
    std::lock_guard<std::mutex> lock(mu_);
    return apply_path_;
  }
  // Seconds the oldest unacknowledged change has waited (0 when caught up).
  double LagSeconds(std::int64_t wall_now_us) const {
    const std::int64_t oldest = oldest_pending_us.load();
    if (oldest == 0) return 0;
    return std::max<double>(0, static_cast<double>(wall_now_us - oldest) / 1e6);
  }

 private:
  mutable std::mutex mu_;
  std::string last_gtid_;
  std::string apply_path_;
};

using StateSaver = std::function<Status(const FollowState&)>;
using LogSink = std::function<void(const std::string&)>;
using RejectSink = std::function<void(const RejectedUpdate&)>;

class Follower {
 public:
  Follower(FollowerOptions options, BinlogSourceFactory source, ChangeApplier& applier,
           StateSaver save, Clock& clock, const std::atomic<bool>& stop, FollowerMetrics& metrics,
           LogSink log, RejectSink on_rejected);

  // Follows from `start` until stop or a fatal error (see above). With a
  // `journal`, the implied-stamp memory (stamp_sequencer.h) is restored
  // from it at `stamps` (the checkpoint's) and appended to before each
  // checkpoint, which then names the journal's new position.
  Status Run(const GtidPosition& start, StampJournal* journal = nullptr,
             StampJournalPos stamps = {});

 private:
  struct Impl;
  FollowerOptions options_;
  BinlogSourceFactory source_;
  ChangeApplier& applier_;
  StateSaver save_;
  Clock& clock_;
  const std::atomic<bool>& stop_;
  FollowerMetrics& metrics_;
  LogSink log_;
  RejectSink on_rejected_;
};

}  // namespace ficus::migrator::cdc
