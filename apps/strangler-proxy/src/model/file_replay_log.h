// FileReplayLog: the replay log (domain/replay_log.h) on disk: the durable log
// of mirrored writes that still have to reach the other backend (mirror
// failed, timed out, or could not be sent).
//
// On disk (one directory, owned by one process: a LOCK file is flock()ed):
//   seg-<first seq, 20 digits>.log   append-only segments: 16-byte header
//                                    ("FRL1", u32 version, u64 first seq)
//                                    then frames [u32 len][u32 crc32c][payload]
//   acks.log                         acknowledged seqs: header ("FAK1", u64
//                                    seq floor, u32 crc) then [u64 seq][u32 crc]
// All integers little-endian. A frame whose length or CRC does not check at
// the tail of a segment (a torn write) is truncated away on Open(); so is a
// torn ack entry. A segment is deleted once every record in it is acked.
//
// Durability: Append() writes the record and calls `done` only after an
// fdatasync covering it (one background sync thread; appends arriving while
// a sync runs share the next one: group commit). Acks are written at once and
// synced lazily by the same thread, at most once per ack_sync_interval (and
// at Close): a crash of the machine can lose recent acks, which only
// means those records are replayed again (at-least-once; safe because both
// stores are last-write-wins by the X-Ficus-Timestamp kept in the headers).
//
// Size bound: the bytes of all segment files never exceed max_bytes. An
// append that would pass it fails with kUnavailable "replay log full: ..."
// and Stats().full turns true (an alarm) until an append fits again.
//
// Held records (lossless rollback): Append(..., held=true, ...) makes the
// record durable but not claimable: the proxy is still delivering it itself
// (a mirror in flight). Settle(seq) then acknowledges it (the mirror got a
// 2xx) and Release(seq) hands it to the replayer (the mirror failed). A held
// record blocks the later records of its user until it is settled or
// released. After a crash every record is pending again, held or not, so a
// write whose mirror outcome was unknown is replayed (at-least-once).
//
// Order: records are replayed per user key in append order: Claim() hands
// out only the oldest pending record of a user, and the next one of that
// user only after Complete() reported the previous one delivered or rejected.
// Different users are independent (parallel consumers, own backoff each).
//
// Files: domain/replay_record.h (the record), replay_format.h (its encoding and the
// frames on disk), file_replay_log.cc (segments, recovery, appends, group commit,
// acks), replay_lanes.cc (per-user lanes, backoff, held records, counts),
// replay_consumer.h (the worker threads that deliver).
//
// Threads: every method is thread-safe. `done` callbacks run on the sync
// thread (or inline on immediate failure) and must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/replay_log.h"
#include "domain/replay_record.h"
#include "ficus/clock.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct FileReplayLogOptions {
  std::string dir;
  uint64_t max_bytes = 256ull << 20;     // all segment files together
  uint64_t segment_bytes = 16ull << 20;  // roll to a new segment past this
  uint32_t max_record_bytes = 4u << 20;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{30000};
  // Acks need no fdatasync of their own per record (see Durability): one
  // per interval keeps the repeat window after a machine crash short while
  // the record syncs, which callers wait for, do not pay for acks too.
  std::chrono::milliseconds ack_sync_interval{200};
  // The clock of the per-user backoff schedule and of appended_ms (nullptr:
  // the system clock). Claim() still waits its max_wait in real time. Must
  // outlive the log.
  Clock* clock = nullptr;
};

class FileReplayLog final : public ReplayLog {
 public:
  // Opens (creating the directory if needed), recovers and starts the sync
  // thread. Fails with kUnavailable when another process holds the lock.
  static Result<std::unique_ptr<FileReplayLog>> Open(FileReplayLogOptions options);
  ~FileReplayLog() override;  // syncs what was written, stops the sync thread
  FileReplayLog(const FileReplayLog&) = delete;
  FileReplayLog& operator=(const FileReplayLog&) = delete;

  // Never blocks on I/O beyond one write(2); `done` gets the seq once durable.
  void Append(ReplayRecord record, bool held, Done done) override;
  // Blocking convenience: returns once the record is durable.
  Result<uint64_t> Append(ReplayRecord record, bool held = false);

  // Held records only (see above). kNotFound when `seq` is not held.
  Status Settle(uint64_t seq) override;   // delivered by its own mirror: acknowledge
  Status Release(uint64_t seq) override;  // its mirror failed: replay it

  // Takes the next record ready to send (oldest pending of a user whose
  // previous record is settled and whose backoff has passed), waiting up to
  // `max_wait`. Empty optional: nothing ready. Every claimed record must be
  // given back with Complete().
  Result<std::optional<ReplayRecord>> Claim(std::chrono::milliseconds max_wait);
  Status Complete(uint64_t seq, ReplayOutcome outcome);

  // Wakes Claim() waiters (used by consumers on shutdown).
  void WakeAll();

  [[nodiscard]] ReplayLogStats Stats() const override;
  [[nodiscard]] uint64_t Backlog(const std::string& route) const;
  // The full alarm, lock-free (for admission checks on the request path):
  // set by a refused append, cleared by a successful one or a freed segment.
  [[nodiscard]] bool Full() const override { return full_flag_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t Backlog(const std::string& route,
                                 const std::string& backend) const override;
  // Backlog minus held records: what the replayer still has to deliver (a
  // held record's own mirror is still in flight). The mode switch guard's figure.
  [[nodiscard]] uint64_t Queued(const std::string& route,
                                const std::string& backend) const override;
  // Records of one user (order key) towards `backend` not yet delivered,
  // held ones included: the per-user knowledge behind read-your-writes and
  // comparison skipping. Lock-free (0) while the whole log is empty.
  [[nodiscard]] uint64_t PendingFor(const std::string& user_key,
                                    const std::string& backend) const override;

 private:
  struct File;
  struct Segment {
    uint64_t first_seq = 0;
    std::string path;
    std::shared_ptr<File> file;
    uint64_t size = 0;
    uint64_t live = 0;     // records not yet acked
    uint64_t records = 0;  // records in the file (a contiguous seq range)
  };
  struct Entry {
    uint64_t seq = 0;
    uint64_t segment = 0;  // first_seq of its segment
    uint64_t offset = 0;
    uint32_t frame_bytes = 0;
    std::string route;
    std::string backend;
    bool held = false;
  };
  struct Lane {
    std::deque<Entry> queue;
    bool claimed = false;
    uint32_t attempts = 0;
    MonoTime not_before;
  };
  struct Waiter {
    uint64_t ticket = 0;
    uint64_t seq = 0;
    Done done;
  };

  explicit FileReplayLog(FileReplayLogOptions options);
  Status Recover();
  Status RecoverSegment(const std::string& path, bool last, const std::set<uint64_t>& acked);
  Status OpenNewSegmentLocked(uint64_t first_seq);
  Status RewriteAcksLocked(const std::set<uint64_t>& acked);
  void AddPendingLocked(const std::string& user, Entry entry);
  void ScheduleLocked(const std::string& user, MonoTime when);
  void SettleLocked(const std::string& user, Lane& lane);
  void MaybeDropSegmentLocked(uint64_t first_seq);
  void AckLocked(const Entry& entry);
  void ResumeLaneLocked(const std::string& user);
  void UnholdLocked(const Entry& entry);
  void SyncLoop();

  const FileReplayLogOptions options_;
  Clock& clock_;
  int lock_fd_ = -1;
  int dir_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable sync_cv_;   // sync thread: work to do
  std::condition_variable ready_cv_;  // Claim(): a lane may be ready
  bool stopping_ = false;
  Error failed_;  // sticky I/O failure (fsync errors are not retried)
  bool has_failed_ = false;

  uint64_t next_seq_ = 1;
  std::map<uint64_t, Segment> segments_;  // by first seq; the last one is current
  std::shared_ptr<File> acks_;
  uint64_t ack_entries_ = 0;
  bool acks_dirty_ = false;
  MonoTime ack_sync_due_{};  // next lazy ack sync

  std::unordered_map<std::string, Lane> lanes_;
  std::set<std::pair<MonoTime, std::string>> ready_;
  std::unordered_map<uint64_t, std::string> claimed_;                       // seq -> user
  std::unordered_map<uint64_t, std::string> held_;                          // seq -> user
  std::map<std::pair<std::string, std::string>, uint64_t> held_by_target_;  // (route, backend)

  uint64_t write_ticket_ = 0;
  uint64_t synced_ticket_ = 0;
  std::vector<Waiter> waiters_;
  ReplayLogStats stats_;
  std::atomic<bool> full_flag_{false};
  std::atomic<uint64_t> backlog_flag_{0};  // == stats_.backlog, readable without mu_
  std::thread sync_thread_;
};

}  // namespace ficus::proxy
