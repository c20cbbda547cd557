#include "domain/cdc/follower.h"

#include <condition_variable>
#include <deque>
#include <optional>
#include <thread>

#include "domain/cdc/change_planner.h"
#include "domain/cdc/stamp_sequencer.h"

namespace ficus::migrator::cdc {

struct Follower::Impl {
  std::mutex mu;
  std::condition_variable items;
  std::condition_variable space;
  std::deque<Transaction> queue;
  std::size_t queued_rows = 0;
  bool reader_done = false;
  std::optional<Error> reader_error;
};

namespace {

Error Purged(const GtidPosition& pos, const Error& e) {
  return Error(ErrorCode::kPreconditionFailed,
               "the binlog no longer has the changes after GTID position '" + pos.ToString() +
                   "' (" + e.message +
                   "); the new store cannot be brought up to date from it: run `profile-migrator "
                   "backfill --restart` again (it records a new binlog position) and follow from "
                   "there");
}

std::size_t Weight(const Transaction& t) {
  return std::max<std::size_t>(1, t.row_events);
}

}  // namespace

Follower::Follower(FollowerOptions options, BinlogSourceFactory source, ChangeApplier& applier,
                   StateSaver save, Clock& clock, const std::atomic<bool>& stop,
                   FollowerMetrics& metrics, LogSink log, RejectSink on_rejected)
    : options_(std::move(options)),
      source_(std::move(source)),
      applier_(applier),
      save_(std::move(save)),
      clock_(clock),
      stop_(stop),
      metrics_(metrics),
      log_(std::move(log)),
      on_rejected_(std::move(on_rejected)) {}

Status Follower::Run(const GtidPosition& start, StampJournal* journal, StampJournalPos stamps) {
  Impl im;
  std::atomic<bool> halt{false};  // set when Run ends on its own (fatal error)
  auto stopping = [&] { return stop_.load() || halt.load(); };
  // Sleeps `ms` in short steps; false when stop came first.
  auto nap = [&](std::int64_t ms) {
    for (std::int64_t left = ms; left > 0; left -= 50) {
      if (stopping()) return false;
      clock_.Sleep(std::chrono::milliseconds(std::min<std::int64_t>(left, 50)));
    }
    return !stopping();
  };
  auto finish_reader = [&](std::optional<Error> err) {
    std::lock_guard<std::mutex> lock(im.mu);
    im.reader_done = true;
    im.reader_error = std::move(err);
    im.items.notify_all();
  };

  std::thread reader([&] {
    GtidPosition pos = start;
    std::int64_t backoff = options_.retry_initial_ms;
    while (!stopping()) {
      auto src = source_();
      auto opened = src->Open(pos.ToString());
      if (!opened) {
        metrics_.connected.store(0);
        const Error& e = opened.error();
        if (e.code == ErrorCode::kPreconditionFailed) {
          finish_reader(Purged(pos, e));
          return;
        }
        if (e.code != ErrorCode::kUnavailable) {
          finish_reader(e);
          return;
        }
        log_("binlog: " + e.message + "; retrying in " + std::to_string(backoff) + " ms");
        if (!nap(backoff)) break;
        backoff = std::min(backoff * 2, options_.retry_max_ms);
        continue;
      }
      metrics_.connected.store(1);
      backoff = options_.retry_initial_ms;
      BinlogStream stream(options_.tables, src->checksum());
      while (!stopping()) {
        auto bytes = src->Next();
        if (!bytes) {
          metrics_.connected.store(0);
          if (bytes.error().code == ErrorCode::kPreconditionFailed) {
            finish_reader(Purged(pos, bytes.error()));  // the server says so at the first read
            return;
          }
          if (bytes.error().code != ErrorCode::kUnavailable) {
            finish_reader(bytes.error());
            return;
          }
          metrics_.reconnects_total.fetch_add(1);
          log_("binlog: " + bytes.error().message + "; reconnecting from " + pos.ToString());
          break;
        }
        metrics_.events_total.fetch_add(1);
        auto done = stream.Feed(*bytes);
        if (!done) {
          finish_reader(done.error());
          return;
        }
        if (!*done) continue;
        Transaction tx = std::move(**done);
        pos.Advance(tx.gtid);
        metrics_.rows_other_tables_total.fetch_add(tx.skipped_rows);
        if (tx.ddl) {
          metrics_.ddl_skipped_total.fetch_add(1);
          log_("skipped DDL/standalone statement at GTID " + tx.gtid.ToString() + ": " +
               tx.statement.substr(0, 200));
        }
        std::unique_lock<std::mutex> lock(im.mu);
        im.space.wait(lock, [&] {
          return stopping() || im.queue.empty() ||
                 im.queued_rows + Weight(tx) <= options_.queue_rows;
        });
        if (stopping()) break;
        im.queued_rows += Weight(tx);
        metrics_.pending_rows.fetch_add(tx.row_events);
        if (metrics_.oldest_pending_us.load() == 0) {
          metrics_.oldest_pending_us.store(std::int64_t{tx.event_time} * 1'000'000);
        }
        im.queue.push_back(std::move(tx));
        im.items.notify_all();
      }
    }
    finish_reader(std::nullopt);
  });

  // Retries `op` with backoff while the writer is unreachable; nullopt on stop.
  auto with_retry = [&](auto op) -> std::optional<decltype(op())> {
    std::int64_t backoff = options_.retry_initial_ms;
    while (true) {
      auto r = op();
      if (r || r.error().code != ErrorCode::kUnavailable) {
        metrics_.writer_ok.store(1);
        return r;
      }
      metrics_.writer_ok.store(0);
      metrics_.writer_retries_total.fetch_add(1);
      log_("writer: " + r.error().message + "; retrying the batch in " + std::to_string(backoff) +
           " ms");
      if (!nap(backoff)) return std::nullopt;
      backoff = std::min(backoff * 2, options_.retry_max_ms);
    }
  };
  std::string batch_gtids;  // "first..last" of the batch in hand, for messages
  auto apply = [&](const std::vector<ProfileUpdate>& updates) -> std::optional<Status> {
    if (updates.empty()) return Status{};
    auto r = with_retry([&] { return applier_.Apply(updates); });
    if (!r) return std::nullopt;
    if (!*r) return Status(tl::unexpected(r->error()));
    metrics_.updates_sent_total.fetch_add(updates.size() - (*r)->size());
    metrics_.apply_calls_total.fetch_add(1);
    metrics_.SetApplyPath(applier_.Path());
    for (const auto& rej : **r) {
      metrics_.updates_rejected_total.fetch_add(1);
      on_rejected_(rej);
    }
    if (options_.stop_on_reject && !(*r)->empty()) {
      const auto& first = (*r)->front();
      return Status(MakeError(
          ErrorCode::kInvalidArgument,
          "the writer rejected " + std::to_string((*r)->size()) +
              " update(s) of the batch of GTIDs " + batch_gtids + ", first: user " +
              first.update.user_id + " at stamp " + std::to_string(first.update.ts_us) + ": " +
              first.message +
              " (all recorded in the failures file). Nothing of this batch is checkpointed. "
              "Correct the rows in MariaDB and restart, or restart with --on-reject record to "
              "record such updates and go on"));
    }
    return Status{};
  };

  GtidPosition applied = start;
  Status result;
  StampSequencer sequencer;
  if (journal) {
    auto text = journal->Load(stamps);
    if (!text) return tl::unexpected(text.error());
    auto memos = DecodeStampMemos(*text, journal->FileOf(stamps.generation));
    if (!memos) return tl::unexpected(memos.error());
    sequencer.Restore(*memos);
    if (!memos->empty()) {
      log_("implied-stamp memory restored: " + std::to_string(sequencer.size()) + " key(s) from " +
           journal->FileOf(stamps.generation));
    }
  }
  // The journal goes with the checkpoint: appended (or compacted) before it.
  auto save_stamps = [&]() -> Result<std::optional<std::int64_t>> {
    if (!journal) return std::optional<std::int64_t>{};
    const bool cleared = sequencer.TakeCleared();
    auto memos = sequencer.TakeMemos();
    const auto live = static_cast<std::int64_t>(sequencer.size());
    if (cleared || (stamps.bytes > (1 << 20) && stamps.bytes > 4 * (80 * live))) {
      auto next = journal->Rewrite(stamps, EncodeStampMemos(sequencer.Snapshot()));
      if (!next) return tl::unexpected(next.error());
      const std::int64_t old = stamps.generation;
      stamps = *next;
      return std::optional<std::int64_t>{old};
    }
    auto next = journal->Append(stamps, EncodeStampMemos(memos));
    if (!next) return tl::unexpected(next.error());
    stamps = *next;
    return std::optional<std::int64_t>{};
  };
  while (true) {
    std::vector<Transaction> batch;
    std::size_t batch_rows = 0;
    {
      std::unique_lock<std::mutex> lock(im.mu);
      im.items.wait_for(lock, std::chrono::milliseconds(100),
                        [&] { return stop_.load() || im.reader_done || !im.queue.empty(); });
      if (im.queue.empty()) {
        if (im.reader_done || stop_.load()) break;
        continue;
      }
      if (im.queued_rows < options_.max_batch_rows && !im.reader_done) {
        im.items.wait_for(lock, std::chrono::milliseconds(options_.max_batch_wait_ms), [&] {
          return stop_.load() || im.reader_done || im.queued_rows >= options_.max_batch_rows;
        });
      }
      while (!im.queue.empty() && (batch.empty() || batch_rows < options_.max_batch_rows)) {
        batch_rows += Weight(im.queue.front());
        im.queued_rows -= Weight(im.queue.front());
        batch.push_back(std::move(im.queue.front()));
        im.queue.pop_front();
      }
      im.space.notify_all();
    }
    batch_gtids = batch.front().gtid.ToString() + ".." + batch.back().gtid.ToString();
    std::vector<AttributeChange> changes;
    std::vector<ProfileDeletion> deletions;
    std::uint64_t rows = 0;
    for (auto& t : batch) {
      rows += t.row_events;
      for (auto& c : t.changes) changes.push_back(std::move(c));
      for (auto& d : t.deletions) deletions.push_back(std::move(d));
    }
    sequencer.Sequence(changes);
    const auto plan = PlanChanges(changes);
    auto applied_ok = apply(plan);
    if (!applied_ok) break;  // stopped while the writer was down: no checkpoint, replayed later
    if (!*applied_ok) {
      result = *applied_ok;
      break;
    }
    // Whole profiles deleted in MariaDB: tombstones for every key the
    // writer holds live for them (read after this batch's changes landed).
    if (!deletions.empty()) {
      std::vector<std::string> users;
      users.reserve(deletions.size());
      for (const auto& d : deletions) users.push_back(d.user_id);
      auto keys = with_retry([&] { return applier_.LiveKeys(users); });
      if (!keys) break;  // stopped while the writer was down
      if (!*keys) {
        result = tl::unexpected(keys->error());
        break;
      }
      std::vector<ProfileUpdate> tombstones;
      for (std::size_t i = 0; i < deletions.size(); ++i) {
        for (auto& u : PlanDeletion(deletions[i], (**keys)[i])) tombstones.push_back(std::move(u));
      }
      auto del = apply(tombstones);
      if (!del) break;
      if (!*del) {
        result = *del;
        break;
      }
    }
    for (const auto& t : batch) applied.Advance(t.gtid);
    auto replaced = save_stamps();
    if (!replaced) {
      result = tl::unexpected(replaced.error());
      break;
    }
    FollowState state{applied.ToString(),        "follow",          options_.source,
                      UnixMicros(clock_.Wall()), stamps.generation, stamps.bytes};
    if (auto s = save_(state); !s) {
      result = s;
      break;
    }
    if (*replaced) journal->Forget(**replaced);
    const std::int64_t now = UnixMicros(clock_.Wall());
    for (const auto& c : changes) {
      metrics_.change_age.ObserveUs(std::max<std::int64_t>(0, now - c.ts_us));
    }
    metrics_.checkpoints_total.fetch_add(1);
    metrics_.rows_applied_total.fetch_add(rows);
    metrics_.transactions_applied_total.fetch_add(batch.size());
    metrics_.pending_rows.fetch_sub(rows);
    metrics_.last_applied_event_us.store(std::int64_t{batch.back().event_time} * 1'000'000);
    metrics_.SetLastGtid(batch.back().gtid.ToString());
    {
      std::lock_guard<std::mutex> lock(im.mu);
      metrics_.oldest_pending_us.store(
          im.queue.empty() ? 0 : std::int64_t{im.queue.front().event_time} * 1'000'000);
    }
  }
  {
    // Unblock a reader waiting for queue space, then wait for it (it
    // notices stop within one heartbeat).
    std::lock_guard<std::mutex> lock(im.mu);
    im.queue.clear();
    im.queued_rows = 0;
    im.space.notify_all();
  }
  halt.store(true);  // the reader leaves within one heartbeat
  reader.join();
  if (!result) return result;
  if (im.reader_error) return tl::unexpected(*im.reader_error);
  return {};
}

}  // namespace ficus::migrator::cdc
