#include "model/replay_journal.h"

namespace ficus::proxy {

void ReplayJournal::Append(JournalWrite w, bool held, Done done) {
  ReplayRecord r;
  r.route = std::move(w.route);
  r.backend = std::move(w.backend);
  r.user_key = std::move(w.user_key);
  r.method = std::move(w.method);
  r.target = std::move(w.target);
  r.headers = std::move(w.headers);
  r.body = std::move(w.body);
  log_.AppendAsync(std::move(r), std::move(done), held);
}

JournalStats ReplayJournal::Stats() const {
  const ReplayLogStats s = log_.Stats();
  JournalStats j;
  j.backlog = s.backlog;
  j.held = s.held;
  j.bytes = s.bytes;
  j.max_bytes = s.max_bytes;
  j.full = s.full;
  j.appended = s.appended;
  j.delivered = s.delivered;
  j.rejected = s.rejected;
  j.retries = s.retries;
  j.full_rejections = s.full_rejections;
  j.backlog_by_target = s.backlog_by_target;
  return j;
}

}  // namespace ficus::proxy
