#include "domain/backfill.h"

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "domain/checkpoint.h"
#include "domain/legacy_rules.h"
#include "domain/partition.h"
#include "domain/update_planner.h"
#include "service/blocking_queue.h"

namespace ficus::migrator {

namespace {

struct Chunk {
  std::size_t partition = 0;
  std::uint64_t seq = 0;
  std::atomic<std::int64_t> remaining{0};
};

struct Task {
  std::shared_ptr<Chunk> chunk;
  std::vector<LegacyProfile> profiles;  // one, or a bulk batch
};

}  // namespace

Backfill::Backfill(BackfillOptions options, LegacyStoreFactory legacy, ModernStoreFactory modern,
                   CheckpointIo checkpoint, Clock& clock, RateLimiter& limiter, Progress& progress,
                   const std::atomic<bool>& stop,
                   std::function<void(const std::string&, const std::string&)> on_failure)
    : options_(options),
      legacy_(std::move(legacy)),
      modern_(std::move(modern)),
      checkpoint_(std::move(checkpoint)),
      clock_(clock),
      limiter_(limiter),
      progress_(progress),
      stop_(stop),
      on_failure_(std::move(on_failure)) {}

Result<BackfillSummary> Backfill::Run() {
  const MonoTime start = clock_.Mono();
  auto ranges = SplitUserIdSpace(options_.partitions);
  if (!ranges) return tl::unexpected(ranges.error());
  auto counter = legacy_();
  if (!counter) return tl::unexpected(counter.error());
  const std::string source = (*counter)->Describe();

  Checkpoint cp;
  cp.source = source;
  for (const auto& r : *ranges) cp.partitions.push_back(PartitionProgress{r, "", false, 0});
  if (!options_.restart) {
    auto text = checkpoint_.load();
    if (text) {
      auto loaded = ParseCheckpoint(*text, checkpoint_.origin);
      if (!loaded) return tl::unexpected(loaded.error());
      if (auto ok = CheckResumable(*loaded, source, *ranges, checkpoint_.origin); !ok) {
        return tl::unexpected(ok.error());
      }
      cp = std::move(*loaded);
    } else if (text.error().code != ErrorCode::kNotFound) {
      return tl::unexpected(text.error());
    }
  }
  summary_.resumed_from = cp.profiles();

  auto total = (*counter)->CountProfiles(KeyRange{});
  if (!total) return tl::unexpected(total.error());
  summary_.legacy_profiles = *total;
  counter->reset();
  progress_.SetTotal(*total);
  progress_.Resume(summary_.resumed_from);

  // Bulk or per-update: asked once, before anything is read.
  bool bulk = false;
  if (options_.use_bulk) {
    auto probe = modern_();
    if (!probe) return tl::unexpected(probe.error());
    auto has = (*probe)->HasBulk();
    if (!has) return tl::unexpected(has.error());
    bulk = *has;
  }
  summary_.bulk = bulk;
  const int workers = bulk ? options_.bulk_workers : options_.workers;
  // A rate-limited run sends smaller batches so the rate stays smooth.
  std::size_t batch = bulk ? static_cast<std::size_t>(std::max(1, options_.batch_users)) : 1;
  if (bulk && limiter_.rate() > 0) {
    batch = std::min<std::size_t>(
        batch, std::max<std::size_t>(1, static_cast<std::size_t>(limiter_.rate() / 20)));
  }

  const std::size_t nparts = cp.partitions.size();
  std::mutex mu;  // guards trackers, reader_done, cp, fatal
  std::vector<ChunkTracker> trackers;
  std::vector<bool> reader_done(nparts, false);
  for (const auto& p : cp.partitions) trackers.emplace_back(p.last_done, p.profiles);
  std::optional<Error> fatal;
  std::atomic<bool> abort{false};
  auto set_fatal = [&](Error e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!fatal) fatal = std::move(e);
    abort = true;
  };

  BlockingQueue<Task> queue(bulk ? static_cast<std::size_t>(workers) * 2 + 4
                                 : static_cast<std::size_t>(workers) * 8 + 64);
  std::atomic<int> readers_left{0};
  std::atomic<std::int64_t> processed{0}, written{0}, updates{0}, empty{0}, failed{0}, requests{0};

  auto reader = [&](std::size_t p) {
    struct Closer {
      std::atomic<int>& left;
      BlockingQueue<Task>& q;
      ~Closer() {
        if (--left == 0) q.Close();
      }
    } closer{readers_left, queue};
    const KeyRange range = cp.partitions[p].range;
    std::string after = cp.partitions[p].last_done;
    std::unique_ptr<LegacyStore> db;
    int failures = 0;
    while (!stop_ && !abort) {
      if (!db) {
        auto c = legacy_();
        if (!c) {
          if (++failures > 3) return set_fatal(c.error());
          clock_.Sleep(std::chrono::seconds(1));
          continue;
        }
        db = std::move(*c);
      }
      auto rows = db->ReadChunk(range, after, options_.chunk_size);
      if (!rows) {
        db.reset();
        if (rows.error().code != ErrorCode::kUnavailable || ++failures > 3) {
          return set_fatal(rows.error());
        }
        clock_.Sleep(std::chrono::seconds(1));
        continue;
      }
      failures = 0;
      if (rows->empty()) {
        std::lock_guard<std::mutex> lock(mu);
        reader_done[p] = true;
        return;
      }
      auto chunk = std::make_shared<Chunk>();
      chunk->partition = p;
      chunk->remaining = static_cast<std::int64_t>(rows->size());
      after = rows->back().user_id;
      {
        std::lock_guard<std::mutex> lock(mu);
        chunk->seq = trackers[p].Issue(after, static_cast<std::int64_t>(rows->size()));
      }
      for (std::size_t i = 0; i < rows->size(); i += batch) {
        Task t{chunk, {}};
        const std::size_t end = std::min(rows->size(), i + batch);
        t.profiles.reserve(end - i);
        for (std::size_t k = i; k < end; ++k) t.profiles.push_back(std::move((*rows)[k]));
        if (!queue.Push(std::move(t))) return;
      }
    }
  };

  auto fail_user = [&](const std::string& user, const std::string& why) {
    ++failed;
    progress_.AddErrors(1);
    on_failure_(user, why);
  };

  // The per-update path: a user's updates one request at a time. Returns
  // false on a fatal error (already recorded).
  auto send_single = [&](std::unique_ptr<ModernStore>& store, const LegacyProfile& profile,
                         const std::vector<ProfileUpdate>& plan) {
    for (const auto& u : plan) {
      if (!store) {
        auto s = modern_();
        if (!s) {
          set_fatal(s.error());
          return false;
        }
        store = std::move(*s);
      }
      auto st = store->Apply(u);
      ++requests;
      if (st) {
        ++updates;
        continue;
      }
      if (st.error().code == ErrorCode::kInvalidArgument) {
        // Cannot happen for a plan that passed CheckMigratable unless the
        // writer's rules differ; earlier updates of the user are applied.
        fail_user(profile.user_id, st.error().message);
        return true;
      }
      set_fatal(st.error());  // unavailable: the chunk never completes
      return false;
    }
    ++written;
    return true;
  };

  // The bulk path: every planned user of the task in one import request.
  auto send_bulk = [&](std::unique_ptr<ModernStore>& store, const std::vector<LegacyProfile>& users,
                       const std::vector<std::vector<ProfileUpdate>>& plans) {
    std::vector<ProfileUpdate> records;
    std::vector<std::size_t> owner;
    for (std::size_t u = 0; u < plans.size(); ++u) {
      for (const auto& up : plans[u]) {
        records.push_back(up);
        owner.push_back(u);
      }
    }
    if (records.empty()) return true;
    if (!store) {
      auto s = modern_();
      if (!s) {
        set_fatal(s.error());
        return false;
      }
      store = std::move(*s);
    }
    auto res = store->ApplyBatch(records, /*atomic_user=*/true);
    ++requests;
    if (!res) {
      set_fatal(res.error());  // the chunk never completes: resumed later
      return false;
    }
    std::vector<std::optional<Error>> user_error(plans.size());
    std::vector<std::int64_t> user_ok(plans.size(), 0);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Status& st = (*res)[i];
      if (st) {
        ++user_ok[owner[i]];
        continue;
      }
      if (st.error().code != ErrorCode::kInvalidArgument) {
        set_fatal(st.error());  // a storage failure of that user
        return false;
      }
      // Prefer the record's own reason over "withheld because of record n".
      auto& e = user_error[owner[i]];
      if (!e || e->message.find("not applied: record") != std::string::npos) e = st.error();
    }
    for (std::size_t u = 0; u < plans.size(); ++u) {
      if (plans[u].empty()) continue;
      if (user_error[u]) {
        fail_user(users[u].user_id, user_error[u]->message);
      } else {
        ++written;
        updates += user_ok[u];
      }
    }
    return true;
  };

  auto worker = [&]() {
    std::unique_ptr<ModernStore> store;
    while (auto task = queue.Pop()) {
      if (stop_ || abort) continue;  // drain without completing: stays behind the checkpoint
      const std::size_t n = task->profiles.size();
      limiter_.Acquire(static_cast<double>(n));
      std::vector<std::vector<ProfileUpdate>> plans(n);
      for (std::size_t u = 0; u < n; ++u) {
        const LegacyProfile& profile = task->profiles[u];
        if (profile.keys.empty() && IsCanonicalLowerUuid(profile.user_id)) {
          ++empty;
          continue;
        }
        auto plan = PlanUpdates(profile);
        if (!plan) {
          fail_user(profile.user_id, plan.error().message);  // nothing of it is sent
          continue;
        }
        plans[u] = std::move(*plan);
      }
      bool ok = true;
      if (bulk) {
        ok = send_bulk(store, task->profiles, plans);
      } else {
        for (std::size_t u = 0; u < n && ok; ++u) {
          if (!plans[u].empty()) ok = send_single(store, task->profiles[u], plans[u]);
        }
      }
      if (!ok) continue;  // fatal: the chunk stays behind the checkpoint
      processed += static_cast<std::int64_t>(n);
      progress_.Add(static_cast<std::int64_t>(n));
      if ((task->chunk->remaining -= static_cast<std::int64_t>(n)) == 0) {
        std::lock_guard<std::mutex> lock(mu);
        trackers[task->chunk->partition].Complete(task->chunk->seq);
      }
    }
  };

  auto snapshot = [&]() {
    std::lock_guard<std::mutex> lock(mu);
    for (std::size_t p = 0; p < nparts; ++p) {
      cp.partitions[p].last_done = trackers[p].last_done();
      cp.partitions[p].profiles = trackers[p].profiles_done();
      cp.partitions[p].finished =
          cp.partitions[p].finished || (reader_done[p] && trackers[p].idle());
    }
    return SerializeCheckpoint(cp);
  };

  std::vector<std::thread> threads;
  readers_left = 0;
  for (std::size_t p = 0; p < nparts; ++p) {
    if (!cp.partitions[p].finished) ++readers_left;
  }
  if (readers_left == 0) queue.Close();
  for (std::size_t p = 0; p < nparts; ++p) {
    if (!cp.partitions[p].finished) threads.emplace_back(reader, p);
  }
  std::atomic<int> workers_left{workers};
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      worker();
      --workers_left;
    });
  }
  MonoTime last_save = clock_.Mono();
  std::optional<Error> save_error;
  while (workers_left > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop_ || abort) queue.Close();
    progress_.Tick();
    if (clock_.Mono() - last_save >= Micros{options_.checkpoint_interval_us}) {
      last_save = clock_.Mono();
      if (auto s = checkpoint_.save(snapshot()); !s) {
        set_fatal(s.error());
        queue.Close();
      }
    }
  }
  queue.Close();
  for (auto& t : threads) t.join();
  if (auto s = checkpoint_.save(snapshot()); !s && !fatal) fatal = s.error();
  progress_.Finish();

  summary_.processed = processed;
  summary_.written = written;
  summary_.updates_sent = updates;
  summary_.requests = requests;
  summary_.empty = empty;
  summary_.failed = failed;
  summary_.complete = cp.finished();
  summary_.interrupted = stop_.load();
  summary_.seconds = Seconds(clock_.Mono() - start);
  if (fatal) return tl::unexpected(*fatal);
  return summary_;
}

}  // namespace ficus::migrator
