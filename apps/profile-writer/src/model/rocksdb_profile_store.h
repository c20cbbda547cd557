// RocksDbProfileStore: the embedded, durable ProfileStore (see
// profile_store.h for the contract it keeps).
//
// Column families (layouts in rocksdb_codec.h):
//   current      the merged profile per user (tombstones kept). Its merge
//                operator folds partial profiles with
//                domain MergeInto (per-key LWW, tombstones kept, tie rule) -
//                the RocksDB twin of ScyllaDB's blind `profiles_current`
//                writes, and what reads stores holding operands
//                (rocksdb_lww_merge.h). Point lookups only: a hash-of-users
//                memtable and bloom filters.
//   history      one row per accepted update, newest first per user
//                (append-only vector memtable: written always, read rarely).
//   idempotency  records kept >= 24 h; a compaction filter drops expired
//                ones (periodic compaction makes sure it runs), and the
//                domain ignores expired records it still reads.
//
// Writes: one group-commit writer thread. Apply() and ApplyBatch() only
// enqueue into a bounded queue (capacity counted in updates; full ->
// kUnavailable at once; a bulk batch larger than the capacity is taken
// when the queue is empty). The writer takes everything queued (up to
// max_batch updates, a bulk batch never split), builds ONE WriteBatch and
// writes it with sync=true (WAL fsynced), then calls every `done` - so N
// concurrent updates, or one bulk import of N updates, cost one fsync.
//
// The answer carries the merged profile, so the writer thread reads the
// user's current value (Get, or its in-batch overlay when the same user
// appears twice in one batch) and folds the update in with the same
// MergeInto the merge operator uses. Having done that read-modify-write
// anyway - safely, as the only writer of `current` - it Puts the merged
// profile (one Put per user per batch) rather than a merge operand: the
// stored state is the same, and the bench profile showed the operand path
// (successive-merge seek on insert, operand folding on every Get) costing
// about 15% of the writer's CPU. What it returns is exactly what a Get sees
// after the write. If the write fails the overlay is dropped and every
// request of the batch fails kInternal.
//
// The cache: as the only writer of `current`, the writer thread keeps the
// encoded value of each user it read or wrote, updated after a batch is
// durably written and before any of its updates is answered (so a read
// after a 200 sees the update); a failed write clears it. Bounded by
// current_cache_bytes (arbitrary entries evicted past the bound). It holds
// exactly what RocksDB returns for the user, so it only saves the
// memtable/SST lookup (the largest RocksDB item of both paths in perf).
// The writer thread reads it without a lock (it is its only mutator);
// changes and other threads' reads take cache_mu_.
//
// Reads (Get, GetIdempotency) run on the caller's thread, never through the
// writer queue: Get from the cache, else RocksDB. All public methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ficus/clock.h"
#include "ficus/metrics.h"
#include "model/profile_store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace ficus::writer {

// The store's metrics, registered as ficus_writer_<name> (store_factory.cc).
// Optional instrumentation; any pointer may be null.
#define ALL_ROCKSDB_STORE_METRICS(COUNTER, GAUGE, HISTOGRAM)                                 \
  HISTOGRAM(group_commit_batch_size, "Updates per synced RocksDB write (group commit).",     \
            GroupCommitBatchBounds())                                                        \
  HISTOGRAM(wal_sync_seconds, "Duration of each synced RocksDB write (WAL append + fsync).", \
            LatencyBuckets())                                                                \
  GAUGE(write_queue_depth, "Updates queued for the group-commit writer.")                    \
  COUNTER(store_write_errors_total, "Failed RocksDB batch writes (each fails its requests).")

inline std::vector<double> GroupCommitBatchBounds() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
}

struct StoreMetrics {
  FICUS_METRIC_FIELDS(ALL_ROCKSDB_STORE_METRICS)
};

struct RocksDbStoreOptions {
  std::string path;                   // created if missing
  std::size_t queue_capacity = 4096;  // updates waiting; beyond -> kUnavailable
  std::size_t max_batch = 1024;       // updates per WriteBatch
  bool sync = true;                   // false only for experiments: 200 without fsync
  // Copy of `current` values the writer thread read or wrote (encoded
  // bytes; 0 = off): updates of cached users skip the RocksDB Get, and Get()
  // answers from it.
  std::size_t current_cache_bytes = 64UL << 20;
  const Clock* clock = nullptr;  // required; used for idempotency expiry
  StoreMetrics metrics;
};

class RocksDbProfileStore final : public ProfileStore {
 public:
  // Opens (creating if needed) the database and starts the writer thread.
  static Result<std::unique_ptr<RocksDbProfileStore>> Open(const RocksDbStoreOptions& options);
  ~RocksDbProfileStore() override;

  void Apply(ApplyRequest request, ApplyCallback done) override;
  void ApplyBatch(std::vector<ProfileUpdate> updates, ApplyBatchCallback done) override;
  Result<Profile> Get(const Uuid& user) override;
  Result<std::optional<IdempotencyRecord>> GetIdempotency(const Uuid& user,
                                                          std::string_view key) override;
  bool Ready() const override;
  Status Close() override;

  struct HistoryEntry {
    std::int64_t ts_us = 0;
    std::uint64_t seq = 0;
    Profile update;  // the update as a partial profile
  };
  // Newest first, at most `limit` entries (tests and tools).
  Result<std::vector<HistoryEntry>> History(const Uuid& user, std::size_t limit);
  // Runs a full compaction of the idempotency CF now (tests, cleanup).
  Status CompactIdempotency();
  std::size_t QueueDepth() const;

 private:
  // One queued unit: a single update (done set) or a bulk batch
  // (batch_done set, updates in `batch`).
  struct Pending {
    ApplyRequest request;
    ApplyCallback done;
    std::vector<ProfileUpdate> batch;
    ApplyBatchCallback batch_done;
    [[nodiscard]] std::size_t Weight() const { return batch_done ? batch.size() : 1; }
  };
  void Enqueue(Pending pending);
  RocksDbProfileStore() = default;
  void WriterLoop();
  void WriteBatchOf(std::vector<Pending>& items);

  RocksDbStoreOptions options_;
  std::shared_ptr<const void> filter_;  // compaction filter; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, current, history, idempotency
  rocksdb::ColumnFamilyHandle* current_ = nullptr;
  rocksdb::ColumnFamilyHandle* history_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  std::uint64_t next_seq_ = 0;  // writer thread only
  struct UuidHash {
    std::size_t operator()(const Uuid& u) const;
  };
  void CachePut(const Uuid& user, std::string bytes);  // writer thread
  void CacheClear();                                   // writer thread
  mutable std::mutex cache_mu_;
  std::unordered_map<Uuid, std::string, UuidHash> cache_;  // see above
  std::size_t cache_bytes_ = 0;                            // writer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;       // guarded by mu_
  std::size_t queued_updates_ = 0;  // sum of queue_ weights, guarded by mu_
  bool closing_ = false;            // guarded by mu_
  bool closed_ = false;             // guarded by mu_
  std::thread writer_;
};

}  // namespace ficus::writer
