// FileReplayLog, the in-memory side: per-user lanes (append order, one record
// of a user out at a time), backoff and scheduling, held records, and the
// backlog counts (see file_replay_log.h). The on-disk side (segments, recovery,
// appends, group commit, acks) is file_replay_log.cc.
#include <algorithm>
#include <cassert>

#include "model/file_replay_log.h"

namespace ficus::proxy {

void FileReplayLog::AddPendingLocked(const std::string& user, Entry entry) {
  Lane& lane = lanes_[user];
  bool was_empty = lane.queue.empty();
  const bool held = entry.held;
  lane.queue.push_back(std::move(entry));
  if (was_empty && !lane.claimed && !held) {
    lane.attempts = 0;
    ScheduleLocked(user, clock_.Mono());
  }
}

void FileReplayLog::ScheduleLocked(const std::string& user, MonoTime when) {
  Lane& lane = lanes_[user];
  lane.not_before = when;
  ready_.emplace(when, user);
  ready_cv_.notify_one();
}

FileReplayLog::~FileReplayLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  ready_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Status FileReplayLog::Complete(uint64_t seq, ReplayOutcome outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  auto cit = claimed_.find(seq);
  if (cit == claimed_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     "replay log: seq " + std::to_string(seq) + " is not claimed");
  }
  std::string user = std::move(cit->second);
  claimed_.erase(cit);
  Lane& lane = lanes_[user];
  lane.claimed = false;
  assert(!lane.queue.empty() && lane.queue.front().seq == seq);
  if (outcome == ReplayOutcome::kRetry) {
    stats_.retries++;
    auto backoff = options_.initial_backoff * (1ll << std::min<uint32_t>(lane.attempts, 20));
    backoff = std::min<std::chrono::milliseconds>(backoff, options_.max_backoff);
    lane.attempts++;
    ScheduleLocked(user, clock_.Mono() + backoff);
    return {};
  }
  (outcome == ReplayOutcome::kDelivered ? stats_.delivered : stats_.rejected)++;
  Entry entry = std::move(lane.queue.front());
  lane.queue.pop_front();
  AckLocked(entry);
  lane.attempts = 0;
  ResumeLaneLocked(user);
  // Keep the acks file from growing without bound: once most entries are
  // about records whose segment is gone, rewrite it with only the acked
  // records still on disk (each live segment holds a contiguous seq range).
  uint64_t on_disk = 0;
  for (const auto& [first, sg] : segments_) on_disk += sg.records;
  uint64_t acked_on_disk = on_disk - stats_.backlog;
  if (ack_entries_ > 4096 && ack_entries_ > 2 * acked_on_disk + 1024) {
    std::set<uint64_t> pending;
    for (const auto& [u, l] : lanes_) {
      for (const Entry& en : l.queue) pending.insert(en.seq);
    }
    std::set<uint64_t> acked;
    for (auto it = segments_.begin(); it != segments_.end(); ++it) {
      auto nx = std::next(it);
      uint64_t end = nx == segments_.end() ? next_seq_ : nx->first;
      for (uint64_t q = it->first; q < end; ++q) {
        if (!pending.contains(q)) acked.insert(q);
      }
    }
    (void)RewriteAcksLocked(acked);
  }
  return {};
}

// The lane's front changed (settled, released or acked): schedule it unless
// it is claimed or held; drop the lane when empty.
void FileReplayLog::ResumeLaneLocked(const std::string& user) {
  auto it = lanes_.find(user);
  if (it == lanes_.end()) return;
  Lane& lane = it->second;
  if (lane.queue.empty()) {
    if (!lane.claimed) lanes_.erase(it);
    return;
  }
  if (!lane.claimed && !lane.queue.front().held) {
    ScheduleLocked(user, clock_.Mono());
  }
}

void FileReplayLog::UnholdLocked(const Entry& entry) {
  const auto target = std::make_pair(entry.route, entry.backend);
  auto it = held_by_target_.find(target);
  if (it != held_by_target_.end() && --it->second == 0) held_by_target_.erase(it);
}

Status FileReplayLog::Settle(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hit = held_.find(seq);
  if (hit == held_.end()) {
    return MakeError(ErrorCode::kNotFound, "replay log: seq " + std::to_string(seq) + " not held");
  }
  std::string user = std::move(hit->second);
  held_.erase(hit);
  stats_.held--;
  stats_.delivered++;
  Lane& lane = lanes_[user];
  auto eit = std::find_if(lane.queue.begin(), lane.queue.end(),
                          [seq](const Entry& e) { return e.seq == seq; });
  assert(eit != lane.queue.end());
  const bool was_front = eit == lane.queue.begin();
  Entry entry = std::move(*eit);
  lane.queue.erase(eit);
  UnholdLocked(entry);
  AckLocked(entry);
  if (was_front) ResumeLaneLocked(user);
  return {};
}

Status FileReplayLog::Release(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hit = held_.find(seq);
  if (hit == held_.end()) {
    return MakeError(ErrorCode::kNotFound, "replay log: seq " + std::to_string(seq) + " not held");
  }
  std::string user = std::move(hit->second);
  held_.erase(hit);
  stats_.held--;
  Lane& lane = lanes_[user];
  for (Entry& e : lane.queue) {
    if (e.seq == seq) {
      e.held = false;
      UnholdLocked(e);
    }
  }
  if (!lane.queue.empty() && lane.queue.front().seq == seq) ResumeLaneLocked(user);
  return {};
}

void FileReplayLog::WakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  ready_cv_.notify_all();
}

ReplayLogStats FileReplayLog::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ReplayLogStats s = stats_;
  s.segments = static_cast<uint32_t>(segments_.size());
  return s;
}

uint64_t FileReplayLog::Backlog(const std::string& route, const std::string& backend) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_target.find({route, backend});
  return it == stats_.backlog_by_target.end() ? 0 : it->second;
}

uint64_t FileReplayLog::Queued(const std::string& route, const std::string& backend) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_target.find({route, backend});
  const uint64_t all = it == stats_.backlog_by_target.end() ? 0 : it->second;
  auto h = held_by_target_.find({route, backend});
  return all - (h == held_by_target_.end() ? 0 : h->second);
}

uint64_t FileReplayLog::PendingFor(const std::string& user_key, const std::string& backend) const {
  if (backlog_flag_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lanes_.find(user_key);
  if (it == lanes_.end()) return 0;
  uint64_t n = 0;
  for (const auto& e : it->second.queue) n += e.backend == backend ? 1 : 0;
  return n;
}

uint64_t FileReplayLog::Backlog(const std::string& route) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_route.find(route);
  return it == stats_.backlog_by_route.end() ? 0 : it->second;
}

}  // namespace ficus::proxy
