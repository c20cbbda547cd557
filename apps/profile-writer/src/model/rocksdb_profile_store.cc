#include "model/rocksdb_profile_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "domain/merge.h"
#include "model/rocksdb_codec.h"
#include "model/rocksdb_lww_merge.h"
#include "service/logging.h"

namespace ficus::writer {
namespace {

constexpr const char* kCurrentCf = "current";
constexpr const char* kHistoryCf = "history";
constexpr const char* kIdempotencyCf = "idempotency";

// idempotency CF: drops records past retention (plus a margin, so the
// domain, which checks liveness itself, never races the filter).
class ExpiredIdempotencyFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiredIdempotencyFilter(const Clock* clock) : clock_(clock) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    auto created = IdempotencyCreatedUs(std::string_view(value.data(), value.size()));
    if (!created) return false;
    return UnixMicros(clock_->Wall()) - *created > kIdempotencyRetentionUs + 3600LL * 1000000;
  }
  const char* Name() const override { return "ficus.ExpiredIdempotency.v1"; }

 private:
  const Clock* clock_;
};

tl::unexpected<Error> StorageError(const rocksdb::Status& s) {
  return MakeError(ErrorCode::kInternal, "storage: " + s.ToString());
}

rocksdb::Slice AsSlice(const std::string& s) {
  return rocksdb::Slice(s.data(), s.size());
}

// The `current` key of a user (CurrentKey's bytes, without a copy).
rocksdb::Slice UserSlice(const Uuid& user) {
  return rocksdb::Slice(reinterpret_cast<const char*>(user.data()), user.size());
}

}  // namespace

std::size_t RocksDbProfileStore::UuidHash::operator()(const Uuid& u) const {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, u.data(), 8);
  std::memcpy(&b, u.data() + 8, 8);
  return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ b);
}

void RocksDbProfileStore::CachePut(const Uuid& user, std::string bytes) {
  constexpr std::size_t kEntryOverhead = 64;  // node, key, string header
  std::size_t cap = options_.current_cache_bytes;
  if (cap == 0) return;
  std::size_t add = bytes.size() + kEntryOverhead;
  std::lock_guard lock(cache_mu_);
  auto [it, fresh] = cache_.try_emplace(user);
  if (!fresh) cache_bytes_ -= it->second.size() + kEntryOverhead;
  it->second = std::move(bytes);
  cache_bytes_ += add;
  while (cache_bytes_ > cap && !cache_.empty()) {
    auto victim = cache_.begin();  // an arbitrary entry
    cache_bytes_ -= victim->second.size() + kEntryOverhead;
    cache_.erase(victim);
  }
}

void RocksDbProfileStore::CacheClear() {
  std::lock_guard lock(cache_mu_);
  cache_.clear();
  cache_bytes_ = 0;
}

Result<std::unique_ptr<RocksDbProfileStore>> RocksDbProfileStore::Open(
    const RocksDbStoreOptions& options) {
  if (options.clock == nullptr) return MakeError(ErrorCode::kInvalidArgument, "clock: required");
  if (options.queue_capacity == 0 || options.max_batch == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "queue_capacity and max_batch must be > 0");
  }
  std::unique_ptr<RocksDbProfileStore> store(new RocksDbProfileStore());
  store->options_ = options;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  // One group-commit thread writes; the history CF's vector memtable needs this.
  db_options.allow_concurrent_memtable_write = false;
  // Compaction (LOW pool) and flush (HIGH pool) run at nice 19: both are
  // deferrable and their bursts - a flush of a full `current` memtable is
  // ~1.7 s of CPU, an L0 merge about one - otherwise take the server's CPU
  // from the HTTP loop and the group commit (open-loop p99 at 80% of peak:
  // 1.9 s with a nice-0 flush, 15 ms niced). They use idle CPU; if they
  // starve, L0 files (20) and full memtables (4 per CF) slow and then stop
  // writes, which frees the CPU for them: back-pressure, never loss.
  db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW,
                                             rocksdb::CpuPriority::kLow);
  db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH,
                                             rocksdb::CpuPriority::kLow);
  // Point lookups of `current` (every update and every read does one): a
  // bloom filter in the memtable and in each SST file skips the skip-list
  // walk / block read for users that are not there, and a block cache keeps
  // the hot profiles decoded in memory.
  rocksdb::BlockBasedTableOptions current_table;
  current_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // 4 shards of 16 MiB, not the default 64 of 1 MiB: an entry larger than its
  // shard is dropped as soon as it is released, and one SST's full bloom
  // filter is ~1.2 MiB per million users, so with 1 MiB shards every lookup
  // re-reads and re-checksums it (perf figures: bench/RESULTS.md, the 1 M
  // profile-migrator runs).
  current_table.block_cache = rocksdb::NewLRUCache(64 << 20, /*num_shard_bits=*/2);
  current_table.cache_index_and_filter_blocks = true;
  rocksdb::ColumnFamilyOptions current_options;
  current_options.merge_operator = NewProfileLwwMergeOperator();
  current_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(current_table));
  // Keys are exactly one 16-byte user id and `current` is only ever read by
  // point lookups, so its memtable is a hash of users (one short sorted list
  // per user) instead of one skip list over all of them: insert and Get stop
  // walking ~20 levels of cache-missing pointers (the top item in perf).
  current_options.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(16));
  current_options.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(200000));
  current_options.memtable_whole_key_filtering = true;
  current_options.memtable_prefix_bloom_size_ratio = 0.02;
  // Operands (from stores written before the writer Put merged values) are
  // collapsed on insert so a hot user's chain stays short.
  current_options.max_successive_merges = 16;
  rocksdb::ColumnFamilyOptions history_options;
  // History is written on every update and read only by tools/tests, so its
  // memtable is an append-only vector (O(1) insert, sorted at flush or when
  // iterated) instead of a skip list whose random-key insert cost showed in
  // the profile.
  history_options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  rocksdb::ColumnFamilyOptions idem_options;
  // The filter must outlive the DB: owned by the store.
  auto filter = std::make_shared<ExpiredIdempotencyFilter>(options.clock);
  idem_options.compaction_filter = filter.get();
  idem_options.periodic_compaction_seconds = 6UL * 3600;

  // Flush and compaction share the server's CPU with the HTTP loop and the
  // group-commit thread (bench/RESULTS.md: they showed as paced-p99 spikes).
  // Larger memtables (4 x 128 MiB per written CF) flush less often, and
  // `current`, rewritten per update, keeps only each user's newest value of
  // a whole memtable at flush; no compression where data is rewritten soon
  // (L0, L1: snappy was the flush thread's top item), LZ4 below.
  for (auto* o : {&current_options, &history_options, &idem_options}) {
    o->compression_per_level.assign(static_cast<std::size_t>(o->num_levels),
                                    rocksdb::kLZ4Compression);
    o->compression_per_level[0] = rocksdb::kNoCompression;
    o->compression_per_level[1] = rocksdb::kNoCompression;
  }
  for (auto* o : {&current_options, &history_options}) {
    o->write_buffer_size = 128UL << 20;
    o->max_write_buffer_number = 4;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kCurrentCf, current_options},
      {kHistoryCf, history_options},
      {kIdempotencyCf, idem_options},
  };
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, cfs, &store->handles_, &raw);
  if (!s.ok()) return StorageError(s);
  store->db_.reset(raw);
  store->filter_ = std::move(filter);
  store->current_ = store->handles_[1];
  store->history_ = store->handles_[2];
  store->idempotency_ = store->handles_[3];
  // Each history row costs RocksDB at least one sequence number, so starting
  // past the latest one keeps `seq` unique across restarts.
  store->next_seq_ = store->db_->GetLatestSequenceNumber() + 1;
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  GetLogger("writer.store")->info("opened RocksDB store at {}", options.path);
  return store;
}

RocksDbProfileStore::~RocksDbProfileStore() {
  (void)Close();
}

void RocksDbProfileStore::Apply(ApplyRequest request, ApplyCallback done) {
  Pending p;
  p.request = std::move(request);
  p.done = std::move(done);
  Enqueue(std::move(p));
}

void RocksDbProfileStore::ApplyBatch(std::vector<ProfileUpdate> updates, ApplyBatchCallback done) {
  if (updates.empty()) {
    done(std::vector<Status>());
    return;
  }
  Pending p;
  p.batch = std::move(updates);
  p.batch_done = std::move(done);
  Enqueue(std::move(p));
}

void RocksDbProfileStore::Enqueue(Pending pending) {
  const char* reason;
  const std::size_t weight = pending.Weight();
  {
    std::unique_lock lock(mu_);
    reason = closing_ ? "store closing" : "write queue full";
    // A bulk batch larger than the whole capacity still goes in when the
    // queue is empty (else it could never be accepted).
    const bool fits = queued_updates_ + weight <= options_.queue_capacity || queued_updates_ == 0;
    if (!closing_ && fits) {
      queue_.push_back(std::move(pending));
      queued_updates_ += weight;
      if (options_.metrics.write_queue_depth) {
        options_.metrics.write_queue_depth->Set(static_cast<std::int64_t>(queued_updates_));
      }
      lock.unlock();
      cv_.notify_one();
      return;
    }
  }
  if (pending.batch_done) {
    pending.batch_done(MakeError(ErrorCode::kUnavailable, reason));
  } else {
    pending.done(MakeError(ErrorCode::kUnavailable, reason));
  }
}

void RocksDbProfileStore::WriterLoop() {
  std::vector<Pending> items;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and drained
      items.clear();
      std::size_t taken = 0;
      // Up to max_batch updates; a bulk batch is never split, and the first
      // item is always taken.
      while (!queue_.empty() &&
             (items.empty() || taken + queue_.front().Weight() <= options_.max_batch)) {
        taken += queue_.front().Weight();
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_updates_ -= taken;
      if (options_.metrics.write_queue_depth) {
        options_.metrics.write_queue_depth->Set(static_cast<std::int64_t>(queued_updates_));
      }
    }
    WriteBatchOf(items);
  }
}

void RocksDbProfileStore::WriteBatchOf(std::vector<Pending>& items) {
  // Every update of the group commit, singles and bulk batches alike, in
  // queue order. Only single updates answer with their merged profile.
  struct Op {
    ProfileUpdate* update;
    const IdempotencyWrite* idempotency;
    bool wants_profile;
  };
  std::vector<Op> ops;
  for (auto& item : items) {
    if (item.batch_done) {
      for (auto& u : item.batch) ops.push_back(Op{&u, nullptr, false});
    } else {
      const auto& idem = item.request.idempotency;
      ops.push_back(Op{&item.request.update, idem ? &*idem : nullptr, true});
    }
  }
  // A history row and a current row of a few hundred bytes per update:
  // reserved once instead of regrown (and copied) while the batch builds.
  rocksdb::WriteBatch batch(ops.size() * 640);
  // Users touched by this batch, in first-touch order, with their merged
  // profile so far.
  struct Touched {
    Uuid user;
    Profile profile;
    std::size_t last_op;  // the batch's last update of this user
    std::string encoded;  // the profile as Put, for the cache
  };
  std::vector<Touched> touched;
  touched.reserve(ops.size());
  std::unordered_map<Uuid, std::size_t, UuidHash> index;
  index.reserve(ops.size());
  std::vector<Result<Profile>> results;
  results.reserve(ops.size());
  std::string key_buf;
  std::string value_buf;
  std::string read_buf;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ProfileUpdate& update = *ops[i].update;
    auto [it, fresh] = index.try_emplace(update.user, touched.size());
    if (fresh) {
      Profile base;
      auto cached = cache_.find(update.user);
      rocksdb::Status s;
      if (cached == cache_.end()) {
        s = db_->Get(rocksdb::ReadOptions(), current_, UserSlice(update.user), &read_buf);
      }
      if (cached != cache_.end() || s.ok()) {
        auto decoded = DecodeProfile(cached != cache_.end() ? cached->second : read_buf);
        if (!decoded) {
          index.erase(it);
          results.emplace_back(
              MakeError(ErrorCode::kInternal, "storage: " + decoded.error().message));
          continue;
        }
        base = std::move(*decoded);
      } else if (!s.IsNotFound()) {
        index.erase(it);
        results.emplace_back(StorageError(s));
        continue;
      }
      touched.push_back(Touched{update.user, std::move(base), i, {}});
    }
    Touched& t = touched[it->second];
    // The previous update of this user in the batch answers with the
    // profile as it stood before this one.
    if (!fresh && ops[t.last_op].wants_profile) results[t.last_op] = t.profile;
    t.last_op = i;
    std::int64_t ts_us = update.ts_us;
    Profile operand = ToProfile(std::move(update));
    value_buf.clear();
    AppendProfile(value_buf, operand);
    key_buf.clear();
    AppendHistoryKey(key_buf, t.user, ts_us, next_seq_++);
    batch.Put(history_, AsSlice(key_buf), AsSlice(value_buf));
    MergeInto(t.profile, std::move(operand));
    if (ops[i].idempotency) {
      const IdempotencyWrite& iw = *ops[i].idempotency;
      IdempotencyRecord rec{iw.created_us, iw.fingerprint, t.user, t.profile};
      batch.Put(idempotency_, AsSlice(IdempotencyKey(t.user, iw.key)),
                AsSlice(EncodeIdempotency(rec)));
    }
    results.emplace_back(Profile{});  // filled by the next update of the user or below
    ++accepted;
  }
  // One Put of the merged profile per user touched (see the header for why
  // not a merge operand); then each user's last update takes the profile.
  for (auto& t : touched) {
    AppendProfile(t.encoded, t.profile);
    batch.Put(current_, UserSlice(t.user), AsSlice(t.encoded));
    if (ops[t.last_op].wants_profile) results[t.last_op] = std::move(t.profile);
  }
  std::optional<rocksdb::Status> failed;
  if (accepted > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    const Stopwatch watch;
    rocksdb::Status s = db_->Write(wo, &batch);
    const double secs = watch.ElapsedSeconds();
    if (options_.metrics.wal_sync_seconds) options_.metrics.wal_sync_seconds->Observe(secs);
    if (options_.metrics.group_commit_batch_size)
      options_.metrics.group_commit_batch_size->Observe(static_cast<double>(accepted));
    if (s.ok()) {
      for (auto& t : touched) CachePut(t.user, std::move(t.encoded));
    } else {
      CacheClear();  // what a failed write left in RocksDB is not known here
      if (options_.metrics.store_write_errors_total)
        options_.metrics.store_write_errors_total->Inc();
      GetLogger("writer.store")
          ->error("batch write of {} updates failed: {}", accepted, s.ToString());
      for (auto& r : results) {
        if (r) r = StorageError(s);
      }
      failed = s;
    }
  }
  std::size_t op = 0;
  for (auto& item : items) {
    if (!item.batch_done) {
      item.done(std::move(results[op++]));
      continue;
    }
    if (failed) {
      op += item.batch.size();
      item.batch_done(StorageError(*failed));
      continue;
    }
    std::vector<Status> statuses;
    statuses.reserve(item.batch.size());
    for (std::size_t k = 0; k < item.batch.size(); ++k, ++op) {
      if (results[op]) {
        statuses.emplace_back();
      } else {
        statuses.emplace_back(tl::unexpected(std::move(results[op].error())));
      }
    }
    item.batch_done(std::move(statuses));
  }
}

Result<Profile> RocksDbProfileStore::Get(const Uuid& user) {
  std::string value;
  bool cached = false;
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(user);
    if (it != cache_.end()) {
      value = it->second;
      cached = true;
    }
  }
  if (!cached) {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), current_, UserSlice(user), &value);
    if (s.IsNotFound()) return MakeError(ErrorCode::kNotFound, "no profile");
    if (!s.ok()) return StorageError(s);
  }
  auto p = DecodeProfile(value);
  if (!p) return MakeError(ErrorCode::kInternal, "storage: " + p.error().message);
  return p;
}

Result<std::optional<IdempotencyRecord>> RocksDbProfileStore::GetIdempotency(const Uuid& user,
                                                                             std::string_view key) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), idempotency_, AsSlice(IdempotencyKey(user, key)), &value);
  if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
  if (!s.ok()) return StorageError(s);
  auto rec = DecodeIdempotency(user, value);
  if (!rec) return MakeError(ErrorCode::kInternal, "storage: " + rec.error().message);
  return std::optional<IdempotencyRecord>(std::move(*rec));
}

Result<std::vector<RocksDbProfileStore::HistoryEntry>> RocksDbProfileStore::History(
    const Uuid& user, std::size_t limit) {
  std::vector<HistoryEntry> out;
  std::string prefix = HistoryPrefix(user);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), history_));
  for (it->Seek(AsSlice(prefix)); it->Valid() && out.size() < limit; it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, 16) != prefix) break;
    auto parts = DecodeHistoryKey(k);
    if (!parts) return tl::unexpected(parts.error());
    auto p = DecodeProfile(std::string_view(it->value().data(), it->value().size()));
    if (!p) return tl::unexpected(p.error());
    out.push_back({parts->ts_us, parts->seq, std::move(*p)});
  }
  if (!it->status().ok()) return StorageError(it->status());
  return out;
}

Status RocksDbProfileStore::CompactIdempotency() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status s = db_->CompactRange(o, idempotency_, nullptr, nullptr);
  if (!s.ok()) return StorageError(s);
  return {};
}

std::size_t RocksDbProfileStore::QueueDepth() const {
  std::lock_guard lock(mu_);
  return queued_updates_;
}

bool RocksDbProfileStore::Ready() const {
  std::lock_guard lock(mu_);
  return !closing_;
}

Status RocksDbProfileStore::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return {};
    closing_ = true;
    closed_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // drains every accepted update
  Status result;
  if (db_) {
    rocksdb::FlushOptions fo;
    rocksdb::Status s = db_->Flush(fo, {current_, history_, idempotency_});
    if (!s.ok()) result = StorageError(s);
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    s = db_->Close();
    if (!s.ok() && result) result = StorageError(s);
    db_.reset();
    GetLogger("writer.store")->info("closed RocksDB store at {}", options_.path);
  }
  return result;
}

}  // namespace ficus::writer
