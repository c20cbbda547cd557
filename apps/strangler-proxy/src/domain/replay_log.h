// ReplayLog: where mirrored writes that still have to reach a backend are
// kept durably until they do (role interface; the model implements it on
// disk, see model/file_replay_log.h).
//
// Contract:
// - Append(): `done` gets the record's seq once the record is durable
//   (fsync'd, possibly group-committed with others), or an error
//   (kUnavailable "replay log full: ..." when the size bound is reached). The
//   log assigns the record's seq and appended_ms. `held` = the caller is
//   still delivering it itself and settles it with Settle() (delivered) or
//   Release() (hand it to the replayer). Records of one user are delivered in
//   append order; a held record blocks the later records of its user.
// - Backlog(): records appended and not yet delivered, per route and target
//   backend name (held ones included). Queued(): the same without held
//   records (what the replayer still has to deliver). PendingFor(): the same per user (order
//   key) and target backend; cheap (no lock) while nothing is pending.
// Threads: every method is thread-safe; `done` may run on any thread and must
// not block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "domain/replay_record.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct ReplayLogStats {
  uint64_t backlog = 0;  // records appended and not yet delivered/rejected
  std::map<std::string, uint64_t> backlog_by_route;
  std::map<std::pair<std::string, std::string>, uint64_t> backlog_by_target;  // (route, backend)
  uint64_t held = 0;   // records whose in-process mirror is still running
  uint64_t bytes = 0;  // segment bytes on disk
  uint64_t max_bytes = 0;
  bool full = false;
  uint64_t appended = 0;
  uint64_t delivered = 0;
  uint64_t rejected = 0;  // permanently refused by the target, dropped
  uint64_t retries = 0;
  uint64_t full_rejections = 0;
  uint64_t truncated_bytes = 0;  // torn tails cut on Open()
  uint32_t segments = 0;
  uint64_t record_syncs = 0;  // fdatasyncs of segments by the sync thread
  uint64_t ack_syncs = 0;     // fdatasyncs of acks.log by the sync thread
};

class ReplayLog {
 public:
  using Done = std::function<void(Result<uint64_t> seq)>;
  virtual ~ReplayLog() = default;
  virtual void Append(ReplayRecord record, bool held, Done done) = 0;
  virtual Status Settle(uint64_t seq) = 0;
  virtual Status Release(uint64_t seq) = 0;
  [[nodiscard]] virtual uint64_t Backlog(const std::string& route,
                                         const std::string& backend) const = 0;
  [[nodiscard]] virtual uint64_t Queued(const std::string& route,
                                        const std::string& backend) const = 0;
  [[nodiscard]] virtual uint64_t PendingFor(const std::string& user_key,
                                            const std::string& backend) const = 0;
  [[nodiscard]] virtual ReplayLogStats Stats() const = 0;
  // Cheap: true while the size bound refuses appends.
  [[nodiscard]] virtual bool Full() const = 0;
};

}  // namespace ficus::proxy
