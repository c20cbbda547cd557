#include "model/replay_log.h"

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

namespace ficus::proxy {
namespace {

constexpr char kSegMagic[4] = {'F', 'R', 'L', '1'};
constexpr char kAckMagic[4] = {'F', 'A', 'K', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kSegHeader = 16;
constexpr size_t kAckHeader = 16;  // magic, u64 floor, u32 crc
constexpr size_t kAckEntry = 12;   // u64 seq, u32 crc
constexpr size_t kFrameHeader = 8;

// CRC32C (Castagnoli), table driven; records are small, this is not hot.
const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Crc32c(const char* data, size_t n) {
  const auto& t = CrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ static_cast<uint8_t>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void PutStr(std::string& s, const std::string& v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s += v;
}

std::string EncodePayload(const ReplayRecord& r) {
  std::string p;
  p.reserve(64 + r.route.size() + r.target.size() + r.body.size());
  PutU64(p, r.seq);
  PutU64(p, static_cast<uint64_t>(r.appended_ms));
  PutStr(p, r.route);
  PutStr(p, r.backend);
  PutStr(p, r.user_key);
  PutStr(p, r.method);
  PutStr(p, r.target);
  PutU32(p, static_cast<uint32_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    PutStr(p, k);
    PutStr(p, v);
  }
  PutStr(p, r.body);
  return p;
}

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  bool U32(uint32_t& v) {
    if (n_ - i_ < 4) return false;
    v = GetU32(p_ + i_);
    i_ += 4;
    return true;
  }
  bool U64(uint64_t& v) {
    if (n_ - i_ < 8) return false;
    v = GetU64(p_ + i_);
    i_ += 8;
    return true;
  }
  bool Str(std::string& v) {
    uint32_t len = 0;
    if (!U32(len) || n_ - i_ < len) return false;
    v.assign(p_ + i_, len);
    i_ += len;
    return true;
  }
  [[nodiscard]] bool Done() const { return i_ == n_; }

 private:
  const char* p_;
  size_t n_;
  size_t i_ = 0;
};

bool DecodePayload(const char* p, size_t n, ReplayRecord& r) {
  Reader rd(p, n);
  uint64_t appended = 0;
  uint32_t headers = 0;
  if (!rd.U64(r.seq) || !rd.U64(appended) || !rd.Str(r.route) || !rd.Str(r.backend) ||
      !rd.Str(r.user_key) || !rd.Str(r.method) || !rd.Str(r.target) || !rd.U32(headers)) {
    return false;
  }
  r.appended_ms = static_cast<int64_t>(appended);
  if (headers > 10000) return false;
  r.headers.clear();
  for (uint32_t i = 0; i < headers; ++i) {
    std::string k, v;
    if (!rd.Str(k) || !rd.Str(v)) return false;
    r.headers.emplace_back(std::move(k), std::move(v));
  }
  return rd.Str(r.body) && rd.Done();
}

tl::unexpected<Error> Errno(const std::string& what) {
  return MakeError(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}

std::string SegmentName(uint64_t first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "seg-%020llu.log", static_cast<unsigned long long>(first_seq));
  return buf;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

struct ReplayLog::File {
  int fd = -1;
  uint64_t size = 0;  // append offset (acks file)
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

ReplayLog::ReplayLog(ReplayLogOptions options) : options_(std::move(options)) {
  stats_.max_bytes = options_.max_bytes;
}

Result<std::unique_ptr<ReplayLog>> ReplayLog::Open(ReplayLogOptions options) {
  if (options.dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "replay_log.dir: empty");
  if (options.segment_bytes < 4096 || options.max_bytes < options.segment_bytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "replay_log: need 4096 <= segment_bytes <= max_bytes");
  }
  if (::mkdir(options.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno("replay_log: mkdir " + options.dir);
  }
  std::unique_ptr<ReplayLog> log(new ReplayLog(std::move(options)));
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

Status ReplayLog::Recover() {
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

Status ReplayLog::RecoverSegment(const std::string& path, bool last,
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

Status ReplayLog::OpenNewSegmentLocked(uint64_t first_seq) {
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

Status ReplayLog::RewriteAcksLocked(const std::set<uint64_t>& acked) {
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

void ReplayLog::AddPendingLocked(const std::string& user, Entry entry) {
  Lane& lane = lanes_[user];
  bool was_empty = lane.queue.empty();
  const bool held = entry.held;
  lane.queue.push_back(std::move(entry));
  if (was_empty && !lane.claimed && !held) {
    lane.attempts = 0;
    ScheduleLocked(user, std::chrono::steady_clock::now());
  }
}

void ReplayLog::ScheduleLocked(const std::string& user,
                               std::chrono::steady_clock::time_point when) {
  Lane& lane = lanes_[user];
  lane.not_before = when;
  ready_.emplace(when, user);
  ready_cv_.notify_one();
}

ReplayLog::~ReplayLog() {
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

void ReplayLog::AppendAsync(ReplayRecord record, AppendDone done, bool held) {
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
  record.appended_ms = NowMs();
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

Result<uint64_t> ReplayLog::Append(ReplayRecord record, bool held) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<Result<uint64_t>> out;
  AppendAsync(
      std::move(record),
      [&](Result<uint64_t> r) {
        std::lock_guard<std::mutex> lock(m);
        out = std::move(r);
        cv.notify_one();
      },
      held);
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

void ReplayLog::SyncLoop() {
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
      } else if (std::chrono::steady_clock::now() < ack_sync_due_) {
        sync_cv_.wait_until(lock, ack_sync_due_);
      } else {
        break;
      }
    }
    bool stop = stopping_;
    uint64_t ticket = write_ticket_;
    std::shared_ptr<File> seg = segments_.empty() ? nullptr : segments_.rbegin()->second.file;
    const auto now = std::chrono::steady_clock::now();
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

Result<std::optional<ReplayRecord>> ReplayLog::Claim(std::chrono::milliseconds max_wait) {
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_) return std::optional<ReplayRecord>{};
    auto now = std::chrono::steady_clock::now();
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
    auto wake = deadline;
    if (!ready_.empty()) wake = std::min(wake, ready_.begin()->first);
    if (now >= deadline) return std::optional<ReplayRecord>{};
    ready_cv_.wait_until(lock, wake);
  }
}

Status ReplayLog::Complete(uint64_t seq, ReplayOutcome outcome) {
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
    ScheduleLocked(user, std::chrono::steady_clock::now() + backoff);
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

void ReplayLog::AckLocked(const Entry& entry) {
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

// The lane's front changed (settled, released or acked): schedule it unless
// it is claimed or held; drop the lane when empty.
void ReplayLog::ResumeLaneLocked(const std::string& user) {
  auto it = lanes_.find(user);
  if (it == lanes_.end()) return;
  Lane& lane = it->second;
  if (lane.queue.empty()) {
    if (!lane.claimed) lanes_.erase(it);
    return;
  }
  if (!lane.claimed && !lane.queue.front().held) {
    ScheduleLocked(user, std::chrono::steady_clock::now());
  }
}

void ReplayLog::UnholdLocked(const Entry& entry) {
  const auto target = std::make_pair(entry.route, entry.backend);
  auto it = held_by_target_.find(target);
  if (it != held_by_target_.end() && --it->second == 0) held_by_target_.erase(it);
}

Status ReplayLog::Settle(uint64_t seq) {
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

Status ReplayLog::Release(uint64_t seq) {
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

void ReplayLog::MaybeDropSegmentLocked(uint64_t first_seq) {
  auto it = segments_.find(first_seq);
  if (it == segments_.end() || it->second.live != 0) return;
  if (std::prev(segments_.end()) == it) return;  // current segment stays
  stats_.bytes -= it->second.size;
  stats_.full = false;  // room again: the next append may fit
  full_flag_.store(false, std::memory_order_relaxed);
  ::unlink(it->second.path.c_str());
  segments_.erase(it);
}

void ReplayLog::WakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  ready_cv_.notify_all();
}

ReplayLogStats ReplayLog::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ReplayLogStats s = stats_;
  s.segments = static_cast<uint32_t>(segments_.size());
  return s;
}

uint64_t ReplayLog::Backlog(const std::string& route, const std::string& backend) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_target.find({route, backend});
  return it == stats_.backlog_by_target.end() ? 0 : it->second;
}

uint64_t ReplayLog::Queued(const std::string& route, const std::string& backend) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_target.find({route, backend});
  const uint64_t all = it == stats_.backlog_by_target.end() ? 0 : it->second;
  auto h = held_by_target_.find({route, backend});
  return all - (h == held_by_target_.end() ? 0 : h->second);
}

uint64_t ReplayLog::PendingFor(const std::string& user_key, const std::string& backend) const {
  if (backlog_flag_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lanes_.find(user_key);
  if (it == lanes_.end()) return 0;
  uint64_t n = 0;
  for (const auto& e : it->second.queue) n += e.backend == backend ? 1 : 0;
  return n;
}

uint64_t ReplayLog::Backlog(const std::string& route) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.backlog_by_route.find(route);
  return it == stats_.backlog_by_route.end() ? 0 : it->second;
}

ReplayConsumer::ReplayConsumer(ReplayLog& log, ReplaySender& sender, int threads)
    : log_(log), sender_(sender), threads_count_(std::max(1, threads)) {}

ReplayConsumer::~ReplayConsumer() {
  Stop();
}

void ReplayConsumer::Start() {
  if (running_.exchange(true)) return;
  for (int i = 0; i < threads_count_; ++i) threads_.emplace_back([this] { Run(); });
}

void ReplayConsumer::Stop() {
  if (!running_.exchange(false)) return;
  log_.WakeAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ReplayConsumer::Run() {
  while (running_.load()) {
    auto claimed = log_.Claim(std::chrono::milliseconds(200));
    if (!claimed || !claimed->has_value()) continue;
    const ReplayRecord& r = **claimed;
    ReplayOutcome outcome = sender_.Send(r);
    (void)log_.Complete(r.seq, outcome);
  }
}

}  // namespace ficus::proxy
