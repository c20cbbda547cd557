#include "model/file_replay_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>

#include "model/replay_format.h"

namespace ficus::proxy {

using namespace replay_format;  // NOLINT(google-build-using-namespace): the format's names

namespace {

tl::unexpected<Error> Errno(const std::string& what) {
  return MakeError(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}

bool WriteAll(int fd, const std::string& data, off_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, char* out, size_t n, off_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out + done, n - done, offset + static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

struct FileReplayLog::File {
  int fd = -1;
  uint64_t size = 0;  // append offset (acks file)
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

FileReplayLog::FileReplayLog(FileReplayLogOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()) {
  stats_.max_bytes = options_.max_bytes;
}

Result<std::unique_ptr<FileReplayLog>> FileReplayLog::Open(FileReplayLogOptions options) {
  if (options.dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "replay_log.dir: empty");
  if (options.segment_bytes < 4096 || options.max_bytes < options.segment_bytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "replay_log: need 4096 <= segment_bytes <= max_bytes");
  }
  if (::mkdir(options.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno("replay_log: mkdir " + options.dir);
  }
  std::unique_ptr<FileReplayLog> log(new FileReplayLog(std::move(options)));
  const std::string& dir = log->options_.dir;
  log->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (log->dir_fd_ < 0) return Errno("replay_log: open " + dir);
  log->lock_fd_ = ::open((dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->lock_fd_ < 0) return Errno("replay_log: open LOCK");
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "replay_log: " + dir + " is in use by another process");
  }
  if (auto st = log->Recover(); !st) return tl::unexpected(st.error());
  log->sync_thread_ = std::thread([l = log.get()] { l->SyncLoop(); });
  return log;
}

Status FileReplayLog::Recover() {
  const std::string& dir = options_.dir;
  // 1. Acks: a torn tail entry is dropped.
  std::set<uint64_t> acked;
  uint64_t floor = 1;
  {
    int fd = ::open((dir + "/acks.log").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::string data;
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
      ::close(fd);
      if (data.size() >= kAckHeader && std::memcmp(data.data(), kAckMagic, 4) == 0 &&
          GetU32(data.data() + 12) == Crc32c(data.data(), 12)) {
        floor = GetU64(data.data() + 4);
        for (size_t off = kAckHeader; off + kAckEntry <= data.size(); off += kAckEntry) {
          if (GetU32(data.data() + off + 8) != Crc32c(data.data() + off, 8)) break;
          acked.insert(GetU64(data.data() + off));
        }
      }
    }
  }
  next_seq_ = std::max<uint64_t>(floor, acked.empty() ? 1 : *acked.rbegin() + 1);
  // 2. Segments in seq order.
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() == 28 && n.rfind("seg-", 0) == 0 && n.substr(24) == ".log") names.push_back(n);
    }
    ::closedir(d);
  } else {
    return Errno("replay_log: opendir " + dir);
  }
  std::sort(names.begin(), names.end());
  for (size_t i = 0; i < names.size(); ++i) {
    auto st = RecoverSegment(dir + "/" + names[i], i + 1 == names.size(), acked);
    if (!st) return st;
  }
  // 3. Drop fully acked segments except the newest (it stays current).
  std::vector<uint64_t> empty;
  for (auto& [first, seg] : segments_) {
    if (seg.live == 0 && first != segments_.rbegin()->first) empty.push_back(first);
  }
  for (uint64_t first : empty) MaybeDropSegmentLocked(first);
  if (segments_.empty() || segments_.rbegin()->second.size >= options_.segment_bytes) {
    if (auto st = OpenNewSegmentLocked(next_seq_); !st) return st;
  }
  // 4. Rewrite the acks file with what still matters.
  return RewriteAcksLocked(acked);
}

Status FileReplayLog::RecoverSegment(const std::string& path, bool last,
                                     const std::set<uint64_t>& acked) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("replay_log: open " + path);
  auto file = std::make_shared<File>();
  file->fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("replay_log: stat " + path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  char hdr[kSegHeader];
  if (size < kSegHeader || !ReadAll(fd, hdr, kSegHeader, 0) ||
      std::memcmp(hdr, kSegMagic, 4) != 0 || GetU32(hdr + 4) != kVersion) {
    if (size < kSegHeader) {  // crashed while creating it: nothing in it was ever acknowledged
      ::unlink(path.c_str());
      stats_.truncated_bytes += size;
      return {};
    }
    return MakeError(ErrorCode::kInternal, "replay_log: " + path + ": bad segment header");
  }
  Segment seg;
  seg.first_seq = GetU64(hdr + 8);
  seg.path = path;
  seg.file = file;
  uint64_t off = kSegHeader;
  std::string payload;
  while (off + kFrameHeader <= size) {
    char fh[kFrameHeader];
    if (!ReadAll(fd, fh, kFrameHeader, static_cast<off_t>(off))) break;
    uint32_t len = GetU32(fh);
    if (len > options_.max_record_bytes || off + kFrameHeader + len > size) break;
    payload.resize(len);
    if (!ReadAll(fd, payload.data(), len, static_cast<off_t>(off + kFrameHeader))) break;
    if (GetU32(fh + 4) != Crc32c(payload.data(), len)) break;
    ReplayRecord r;
    if (!DecodePayload(payload.data(), len, r)) break;
    next_seq_ = std::max(next_seq_, r.seq + 1);
    if (!acked.contains(r.seq)) {
      seg.live++;
      stats_.backlog_by_route[r.route]++;
      stats_.backlog_by_target[{r.route, r.backend}]++;
      stats_.backlog++;
      backlog_flag_.fetch_add(1, std::memory_order_relaxed);
      AddPendingLocked(r.user_key,
                       Entry{r.seq, seg.first_seq, off, static_cast<uint32_t>(kFrameHeader + len),
                             r.route, r.backend, false});
    }
    seg.records++;
    off += kFrameHeader + len;
  }
  if (off < size) {
    // Torn or corrupt tail: only the last segment can legitimately have one
    // (older ones were synced before rolling), but either way the bytes after
    // the last good frame are unusable; cut them so appends continue cleanly.
    (void)last;
    stats_.truncated_bytes += size - off;
    if (::ftruncate(fd, static_cast<off_t>(off)) != 0 || ::fdatasync(fd) != 0) {
      return Errno("replay_log: truncate " + path);
    }
  }
  seg.size = off;
  stats_.bytes += off;
  segments_[seg.first_seq] = std::move(seg);
  return {};
}

Status FileReplayLog::OpenNewSegmentLocked(uint64_t first_seq) {
  std::string path = options_.dir + "/" + SegmentName(first_seq);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("replay_log: create " + path);
  auto file = std::make_shared<File>();
  file->fd = fd;
  std::string hdr(kSegMagic, 4);
  PutU32(hdr, kVersion);
  PutU64(hdr, first_seq);
  if (!WriteAll(fd, hdr, 0) || ::fdatasync(fd) != 0 || ::fsync(dir_fd_) != 0) {
    return Errno("replay_log: init " + path);
  }
  Segment seg{first_seq, path, file, kSegHeader, 0, 0};
  stats_.bytes += kSegHeader;
  segments_[first_seq] = std::move(seg);
  return {};
}

Status FileReplayLog::RewriteAcksLocked(const std::set<uint64_t>& acked) {
  uint64_t min_live = segments_.empty() ? next_seq_ : segments_.begin()->first;
  std::string data(kAckMagic, 4);
  PutU64(data, next_seq_);
  PutU32(data, Crc32c(data.data(), 12));
  ack_entries_ = 0;
  for (auto it = acked.lower_bound(min_live); it != acked.end(); ++it) {
    std::string e;
    PutU64(e, *it);
    PutU32(e, Crc32c(e.data(), 8));
    data += e;
    ack_entries_++;
  }
  std::string tmp = options_.dir + "/acks.log.tmp";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("replay_log: create " + tmp);
  if (!WriteAll(fd, data, 0) || ::fdatasync(fd) != 0) {
    ::close(fd);
    return Errno("replay_log: write " + tmp);
  }
  if (::rename(tmp.c_str(), (options_.dir + "/acks.log").c_str()) != 0 || ::fsync(dir_fd_) != 0) {
    ::close(fd);
    return Errno("replay_log: rename acks");
  }
  acks_ = std::make_shared<File>();
  acks_->fd = fd;
  acks_->size = data.size();
  acks_dirty_ = false;
  return {};
}

void FileReplayLog::Append(ReplayRecord record, bool held, Done done) {
  std::unique_lock<std::mutex> lock(mu_);
  if (has_failed_) {
    Error e = failed_;
    lock.unlock();
    done(tl::unexpected(e));
    return;
  }
  if (stopping_) {
    lock.unlock();
    done(MakeError(ErrorCode::kUnavailable, "replay log closed"));
    return;
  }
  record.seq = next_seq_;
  record.appended_ms = UnixMillis(clock_.Wall());
  std::string payload = EncodePayload(record);
  if (payload.size() > options_.max_record_bytes) {
    lock.unlock();
    done(MakeError(ErrorCode::kTooLarge, "replay log: record of " + std::to_string(payload.size()) +
                                             " bytes over " +
                                             std::to_string(options_.max_record_bytes)));
    return;
  }
  std::string frame;
  PutU32(frame, static_cast<uint32_t>(payload.size()));
  PutU32(frame, Crc32c(payload.data(), payload.size()));
  frame += payload;
  Segment* seg = &segments_.rbegin()->second;
  bool roll = seg->size + frame.size() > options_.segment_bytes && seg->size > kSegHeader;
  uint64_t need = frame.size() + (roll ? kSegHeader : 0);
  if (stats_.bytes + need > options_.max_bytes) {
    stats_.full = true;
    full_flag_.store(true, std::memory_order_relaxed);
    stats_.full_rejections++;
    std::string msg = "replay log full: " + std::to_string(stats_.bytes) + " of " +
                      std::to_string(options_.max_bytes) + " bytes used, " +
                      std::to_string(stats_.backlog) + " records pending";
    lock.unlock();
    done(MakeError(ErrorCode::kUnavailable, msg));
    return;
  }
  if (roll) {
    // Everything in the old segment becomes durable before the new one gets
    // a byte, so the sync thread's "synced up to ticket" stays true.
    if (::fdatasync(seg->file->fd) != 0) {
      has_failed_ = true;
      failed_ =
          Error(ErrorCode::kInternal, std::string("replay log fdatasync: ") + strerror(errno));
      lock.unlock();
      done(tl::unexpected(failed_));
      return;
    }
    uint64_t old = seg->first_seq;
    synced_ticket_ = write_ticket_;
    if (auto st = OpenNewSegmentLocked(record.seq); !st) {
      Error e = st.error();
      lock.unlock();
      done(tl::unexpected(e));
      return;
    }
    MaybeDropSegmentLocked(old);
    seg = &segments_.rbegin()->second;
  }
  uint64_t offset = seg->size;
  if (!WriteAll(seg->file->fd, frame, static_cast<off_t>(offset))) {
    Error e(ErrorCode::kInternal, std::string("replay log write: ") + strerror(errno));
    (void)::ftruncate(seg->file->fd, static_cast<off_t>(offset));
    lock.unlock();
    done(tl::unexpected(e));
    return;
  }
  next_seq_++;
  seg->size += frame.size();
  seg->live++;
  seg->records++;
  stats_.bytes += frame.size();
  stats_.full = false;
  full_flag_.store(false, std::memory_order_relaxed);
  stats_.appended++;
  stats_.backlog++;
  backlog_flag_.fetch_add(1, std::memory_order_relaxed);
  stats_.backlog_by_route[record.route]++;
  stats_.backlog_by_target[{record.route, record.backend}]++;
  if (held) {
    stats_.held++;
    held_[record.seq] = record.user_key;
    held_by_target_[{record.route, record.backend}]++;
  }
  AddPendingLocked(record.user_key,
                   Entry{record.seq, seg->first_seq, offset, static_cast<uint32_t>(frame.size()),
                         record.route, record.backend, held});
  waiters_.push_back(Waiter{++write_ticket_, record.seq, std::move(done)});
  lock.unlock();
  sync_cv_.notify_one();
}

Result<uint64_t> FileReplayLog::Append(ReplayRecord record, bool held) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<Result<uint64_t>> out;
  Append(std::move(record), held, [&](Result<uint64_t> r) {
    std::lock_guard<std::mutex> lock(m);
    out = std::move(r);
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

void FileReplayLog::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Record syncs are due at once (callers wait); dirty acks only once
    // their interval has passed (a lost ack only means a repeat).
    auto records_due = [&] {
      return stopping_ || write_ticket_ > synced_ticket_ ||
             (!waiters_.empty() && waiters_.front().ticket <= synced_ticket_);
    };
    while (!records_due()) {
      if (!acks_dirty_) {
        sync_cv_.wait(lock);
      } else if (SystemClock::MonoNow() < ack_sync_due_) {
        sync_cv_.wait_until(lock, ack_sync_due_);
      } else {
        break;
      }
    }
    bool stop = stopping_;
    uint64_t ticket = write_ticket_;
    std::shared_ptr<File> seg = segments_.empty() ? nullptr : segments_.rbegin()->second.file;
    const MonoTime now = SystemClock::MonoNow();
    std::shared_ptr<File> acks = acks_dirty_ && (stop || now >= ack_sync_due_) ? acks_ : nullptr;
    if (acks) {
      acks_dirty_ = false;
      ack_sync_due_ = now + options_.ack_sync_interval;
    }
    lock.unlock();
    bool ok = true;
    const bool sync_records = ticket > synced_ticket_ && seg;
    if (sync_records) ok = ::fdatasync(seg->fd) == 0;
    if (acks) (void)::fdatasync(acks->fd);
    lock.lock();
    stats_.record_syncs += sync_records ? 1 : 0;
    stats_.ack_syncs += acks ? 1 : 0;
    if (!ok && !has_failed_) {
      has_failed_ = true;
      failed_ =
          Error(ErrorCode::kInternal, std::string("replay log fdatasync: ") + strerror(errno));
    }
    synced_ticket_ = std::max(synced_ticket_, ticket);
    std::vector<Waiter> ready;
    auto split = std::stable_partition(waiters_.begin(), waiters_.end(),
                                       [&](const Waiter& w) { return w.ticket > synced_ticket_; });
    std::move(split, waiters_.end(), std::back_inserter(ready));
    waiters_.erase(split, waiters_.end());
    Error err = failed_;
    bool failed = has_failed_ && !ok;
    lock.unlock();
    for (Waiter& w : ready) {
      if (failed) {
        w.done(tl::unexpected(err));
      } else {
        w.done(w.seq);
      }
    }
    lock.lock();
    if (stop && waiters_.empty() && write_ticket_ <= synced_ticket_ && !acks_dirty_) return;
  }
}

Result<std::optional<ReplayRecord>> FileReplayLog::Claim(std::chrono::milliseconds max_wait) {
  // max_wait is real time; whether a lane's backoff has passed is the clock's.
  const MonoTime deadline = SystemClock::MonoNow() + max_wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) return std::optional<ReplayRecord>{};
    const MonoTime now = clock_.Mono();
    // Stale schedule entries (lane settled or rescheduled) are skipped.
    while (!ready_.empty()) {
      auto it = ready_.begin();
      auto lit = lanes_.find(it->second);
      if (lit == lanes_.end() || lit->second.claimed || lit->second.queue.empty() ||
          lit->second.queue.front().held || lit->second.not_before != it->first) {
        ready_.erase(it);
        continue;
      }
      break;
    }
    if (!ready_.empty() && ready_.begin()->first <= now) {
      std::string user = ready_.begin()->second;
      ready_.erase(ready_.begin());
      Lane& lane = lanes_[user];
      lane.claimed = true;
      Entry entry = lane.queue.front();
      claimed_[entry.seq] = user;
      std::shared_ptr<File> file = segments_.at(entry.segment).file;
      lock.unlock();
      std::string frame(entry.frame_bytes, '\0');
      ReplayRecord r;
      bool ok = ReadAll(file->fd, frame.data(), frame.size(), static_cast<off_t>(entry.offset)) &&
                GetU32(frame.data() + 4) ==
                    Crc32c(frame.data() + kFrameHeader, frame.size() - kFrameHeader) &&
                DecodePayload(frame.data() + kFrameHeader, frame.size() - kFrameHeader, r);
      if (!ok) {
        // Unreadable now although it checked at append/open: give it back
        // with backoff rather than lose it, and report the I/O problem.
        (void)Complete(entry.seq, ReplayOutcome::kRetry);
        return MakeError(ErrorCode::kInternal,
                         "replay log: cannot read record " + std::to_string(entry.seq));
      }
      return std::optional<ReplayRecord>(std::move(r));
    }
    const MonoTime real_now = SystemClock::MonoNow();
    if (real_now >= deadline) return std::optional<ReplayRecord>{};
    MonoTime wake = deadline;
    if (!ready_.empty()) wake = std::min(wake, real_now + (ready_.begin()->first - now));
    ready_cv_.wait_until(lock, wake);
  }
}

void FileReplayLog::AckLocked(const Entry& entry) {
  // Ack: written now, synced lazily by the sync thread.
  if (acks_) {
    std::string e;
    PutU64(e, entry.seq);
    PutU32(e, Crc32c(e.data(), 8));
    if (WriteAll(acks_->fd, e, static_cast<off_t>(acks_->size))) {
      acks_->size += e.size();
      ack_entries_++;
      acks_dirty_ = true;
      sync_cv_.notify_one();
    }
  }
  stats_.backlog--;
  backlog_flag_.fetch_sub(1, std::memory_order_relaxed);
  if (--stats_.backlog_by_route[entry.route] == 0) stats_.backlog_by_route.erase(entry.route);
  const auto target = std::make_pair(entry.route, entry.backend);
  if (--stats_.backlog_by_target[target] == 0) stats_.backlog_by_target.erase(target);
  auto sit = segments_.find(entry.segment);
  if (sit != segments_.end()) {
    sit->second.live--;
    MaybeDropSegmentLocked(entry.segment);
  }
}

void FileReplayLog::MaybeDropSegmentLocked(uint64_t first_seq) {
  auto it = segments_.find(first_seq);
  if (it == segments_.end() || it->second.live != 0) return;
  if (std::prev(segments_.end()) == it) return;  // current segment stays
  stats_.bytes -= it->second.size;
  stats_.full = false;  // room again: the next append may fit
  full_flag_.store(false, std::memory_order_relaxed);
  ::unlink(it->second.path.c_str());
  segments_.erase(it);
}

}  // namespace ficus::proxy
