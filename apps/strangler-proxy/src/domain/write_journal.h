// WriteJournal: where mirrored writes that still have to reach a backend are
// kept durably until they do (role interface; the model implements it on the
// on-disk replay log, see model/replay_journal.h).
//
// Contract:
// - Append(): `done` gets the record id once the record is durable (fsync'd,
//   possibly group-committed with others), or an error (kUnavailable "replay
//   log full: ..." when the size bound is reached). `held` = the caller is
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
#include <vector>

#include "ficus/result.h"

namespace ficus::proxy {

struct JournalWrite {
  std::string route;
  std::string backend;   // backend name the write must reach
  std::string user_key;  // per-user order; "" = one shared lane
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // incl. X-Ficus-Timestamp
  std::string body;
};

struct JournalStats {
  uint64_t backlog = 0;
  uint64_t held = 0;
  uint64_t bytes = 0;
  uint64_t max_bytes = 0;
  bool full = false;
  uint64_t appended = 0;
  uint64_t delivered = 0;
  uint64_t rejected = 0;
  uint64_t retries = 0;
  uint64_t full_rejections = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> backlog_by_target;  // (route, backend)
};

class WriteJournal {
 public:
  using Done = std::function<void(Result<uint64_t> id)>;
  virtual ~WriteJournal() = default;
  virtual void Append(JournalWrite write, bool held, Done done) = 0;
  virtual Status Settle(uint64_t id) = 0;
  virtual Status Release(uint64_t id) = 0;
  [[nodiscard]] virtual uint64_t Backlog(const std::string& route,
                                         const std::string& backend) const = 0;
  [[nodiscard]] virtual uint64_t Queued(const std::string& route,
                                        const std::string& backend) const = 0;
  [[nodiscard]] virtual uint64_t PendingFor(const std::string& user_key,
                                            const std::string& backend) const = 0;
  [[nodiscard]] virtual JournalStats Stats() const = 0;
  // Cheap: true while the size bound refuses appends.
  [[nodiscard]] virtual bool Full() const = 0;
};

}  // namespace ficus::proxy
