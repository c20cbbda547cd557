#include "domain/backfill.h"

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "domain/checkpoint.h"
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
  LegacyProfile profile;
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
  const std::int64_t start_us = clock_.NowUs();
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

  BlockingQueue<Task> queue(static_cast<std::size_t>(options_.workers) * 8 + 64);
  std::atomic<int> readers_left{0};
  std::atomic<std::int64_t> processed{0}, written{0}, updates{0}, empty{0}, failed{0};

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
          clock_.SleepUs(1'000'000);
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
        clock_.SleepUs(1'000'000);
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
      for (auto& profile : *rows) {
        if (!queue.Push(Task{chunk, std::move(profile)})) return;
      }
    }
  };

  auto worker = [&]() {
    std::unique_ptr<ModernStore> store;
    while (auto task = queue.Pop()) {
      if (stop_ || abort) continue;  // drain without completing: stays behind the checkpoint
      limiter_.Acquire(1);
      bool ok = true;
      const LegacyProfile& profile = task->profile;
      if (profile.keys.empty()) {
        ++empty;
      } else {
        auto plan = PlanUpdates(profile);
        if (!plan) {
          ok = false;
          ++failed;
          progress_.AddErrors(1);
          on_failure_(profile.user_id, plan.error().message);
        } else {
          for (const auto& u : *plan) {
            if (!store) {
              auto s = modern_();
              if (!s) return set_fatal(s.error());
              store = std::move(*s);
            }
            auto st = store->Apply(u);
            if (st) {
              ++updates;
              continue;
            }
            if (st.error().code == ErrorCode::kInvalidArgument) {
              ok = false;
              ++failed;
              progress_.AddErrors(1);
              on_failure_(profile.user_id, st.error().message);
              break;
            }
            return set_fatal(st.error());  // unavailable: the chunk never completes
          }
          if (ok) ++written;
        }
      }
      ++processed;
      progress_.Add(1);
      if (--task->chunk->remaining == 0) {
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
  std::atomic<int> workers_left{options_.workers};
  for (int i = 0; i < options_.workers; ++i) {
    threads.emplace_back([&] {
      worker();
      --workers_left;
    });
  }
  std::int64_t last_save = clock_.NowUs();
  std::optional<Error> save_error;
  while (workers_left > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop_ || abort) queue.Close();
    progress_.Tick();
    if (clock_.NowUs() - last_save >= options_.checkpoint_interval_us) {
      last_save = clock_.NowUs();
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
  summary_.empty = empty;
  summary_.failed = failed;
  summary_.complete = cp.finished();
  summary_.interrupted = stop_.load();
  summary_.seconds = double(clock_.NowUs() - start_us) / 1e6;
  if (fatal) return tl::unexpected(*fatal);
  return summary_;
}

}  // namespace ficus::migrator
