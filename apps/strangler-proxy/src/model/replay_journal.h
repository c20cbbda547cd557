// ReplayJournal: the WriteJournal role on the durable on-disk ReplayLog.
// Thin adapter; see model/replay_log.h for the file format, durability and
// ordering guarantees. Threads: as ReplayLog (everything thread-safe).
#pragma once

#include "domain/write_journal.h"
#include "model/replay_log.h"

namespace ficus::proxy {

class ReplayJournal final : public WriteJournal {
 public:
  explicit ReplayJournal(ReplayLog& log) : log_(log) {}
  void Append(JournalWrite write, bool held, Done done) override;
  Status Settle(uint64_t id) override { return log_.Settle(id); }
  Status Release(uint64_t id) override { return log_.Release(id); }
  [[nodiscard]] uint64_t Backlog(const std::string& route,
                                 const std::string& backend) const override {
    return log_.Backlog(route, backend);
  }
  [[nodiscard]] uint64_t Queued(const std::string& route,
                                const std::string& backend) const override {
    return log_.Queued(route, backend);
  }
  [[nodiscard]] uint64_t PendingFor(const std::string& user_key,
                                    const std::string& backend) const override {
    return log_.PendingFor(user_key, backend);
  }
  [[nodiscard]] JournalStats Stats() const override;
  [[nodiscard]] bool Full() const override { return log_.Full(); }

 private:
  ReplayLog& log_;
};

}  // namespace ficus::proxy
