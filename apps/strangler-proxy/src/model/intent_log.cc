#include "model/intent_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "model/replay_format.h"

namespace ficus::proxy {

using replay_format::Crc32c;
using replay_format::GetU32;
using replay_format::PutU32;
using replay_format::PutU64;
using replay_format::Reader;

namespace {

constexpr char kMagic[4] = {'F', 'I', 'N', '1'};
constexpr uint8_t kIntent = 1;
constexpr uint8_t kSettled = 2;
constexpr size_t kFrameHeader = 8;
constexpr uint32_t kMaxFrame = 64u << 20;

std::atomic<uint64_t> g_instances{0};

void PutStr(std::string& s, std::string_view v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s.append(v);
}

// Appends a frame whose payload the caller wrote after `start` + 8 bytes.
void CloseFrame(std::string& buf, size_t start) {
  const size_t len = buf.size() - start - kFrameHeader;
  const uint32_t crc = Crc32c(buf.data() + start + kFrameHeader, len);
  for (int i = 0; i < 4; ++i) {
    buf[start + i] = static_cast<char>((len >> (8 * i)) & 0xFF);
    buf[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
}

struct Decoded {
  std::string route, user_key, method, legacy_backend, legacy_target, modern_backend, modern_target,
      body;
  std::vector<std::pair<std::string, std::string>> headers;
};

bool DecodeIntent(Reader& r, Decoded& d) {
  uint32_t n = 0;
  if (!r.Str(d.route) || !r.Str(d.user_key) || !r.Str(d.method) || !r.Str(d.legacy_backend) ||
      !r.Str(d.legacy_target) || !r.Str(d.modern_backend) || !r.Str(d.modern_target) || !r.U32(n) ||
      n > 10000) {
    return false;
  }
  d.headers.resize(n);
  for (auto& [name, value] : d.headers) {
    if (!r.Str(name) || !r.Str(value)) return false;
  }
  return r.Str(d.body) && r.Done();
}

std::vector<std::string> IntentFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("intents-", 0) == 0 && n.size() > 12 && n.ends_with(".log")) out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::string data;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return data;
}

ReplayRecord RecordFor(const Decoded& d, bool legacy) {
  ReplayRecord r;
  r.route = d.route;
  r.backend = legacy ? d.legacy_backend : d.modern_backend;
  r.user_key = d.user_key;
  r.method = d.method;
  r.target = legacy ? d.legacy_target : d.modern_target;
  r.headers = d.headers;
  r.body = d.body;
  return r;
}

}  // namespace

struct IntentLog::Writer {
  struct File {
    std::string path;
    int fd = -1;
    uint64_t size = 0;
    uint64_t unsettled = 0;
    uint64_t max_id = 0;  // ids are added in increasing order per writer
  };
  int index = 0;
  uint64_t generation = 0;
  std::string buf;
  std::deque<File> files;  // back: current
  ~Writer() {
    for (auto& f : files) {
      if (f.fd >= 0) ::close(f.fd);
    }
  }
};

IntentLog::IntentLog(std::string dir, uint64_t rotate_bytes)
    : dir_(std::move(dir)), rotate_bytes_(rotate_bytes), instance_(++g_instances) {}

IntentLog::~IntentLog() = default;

IntentLog::Writer& IntentLog::ThisThread() {
  // This thread's (event loop's) writer, for the log it belongs to (the
  // instance number is compared first: an older log may be gone).
  thread_local uint64_t tl_owner = 0;
  thread_local Writer* tl_writer = nullptr;
  if (tl_owner == instance_) return *tl_writer;
  std::lock_guard lock(mu_);
  auto w = std::make_unique<Writer>();
  w->index = static_cast<int>(writers_.size());
  w->buf.reserve(std::size_t{64} * 1024);
  tl_owner = instance_;
  tl_writer = w.get();
  writers_.push_back(std::move(w));
  return *tl_writer;
}

uint64_t IntentLog::Add(const WriteIntent& in) {
  Writer& w = ThisThread();
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  std::string& b = w.buf;
  const size_t start = b.size();
  b.append(kFrameHeader, '\0');
  b.push_back(static_cast<char>(kIntent));
  PutU64(b, id);
  PutStr(b, in.route);
  PutStr(b, in.user_key);
  PutStr(b, in.method);
  PutStr(b, in.legacy_backend);
  PutStr(b, in.legacy_target);
  PutStr(b, in.modern_backend);
  PutStr(b, in.modern_target);
  PutU32(b, static_cast<uint32_t>(in.headers.size()));
  for (const auto& [name, value] : in.headers) {
    PutStr(b, name);
    PutStr(b, value);
  }
  PutStr(b, in.body);
  CloseFrame(b, start);
  if (w.files.empty()) w.files.emplace_back();  // opened by the first flush
  w.files.back().unsettled++;
  w.files.back().max_id = id;
  added_.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void IntentLog::Settle(uint64_t id) {
  if (id == 0) return;
  Writer& w = ThisThread();
  std::string& b = w.buf;
  const size_t start = b.size();
  b.append(kFrameHeader, '\0');
  b.push_back(static_cast<char>(kSettled));
  PutU64(b, id);
  CloseFrame(b, start);
  settled_.fetch_add(1, std::memory_order_relaxed);
  for (auto it = w.files.begin(); it != w.files.end(); ++it) {
    if (id > it->max_id) continue;
    if (it->unsettled > 0) --it->unsettled;
    // An old file whose every intent is settled is no longer needed (its
    // settle frames may still be in the buffer: nothing in it to recover).
    if (it->unsettled == 0 && std::next(it) != w.files.end()) {
      if (it->fd >= 0) ::close(it->fd);
      ::unlink(it->path.c_str());
      w.files.erase(it);
    }
    break;
  }
}

bool IntentLog::Flush() {
  return FlushWriter(ThisThread());
}

bool IntentLog::FlushWriter(Writer& w) {
  if (w.buf.empty()) return false;
  if (w.files.empty()) w.files.emplace_back();
  auto* cur = &w.files.back();
  if (cur->fd < 0) {
    cur->path = dir_ + "/intents-" + std::to_string(w.index) + "-" +
                std::to_string(++w.generation) + ".log";
    cur->fd = ::open(cur->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (cur->fd >= 0 && ::write(cur->fd, kMagic, 4) == 4) cur->size = 4;
  }
  bool ok = cur->fd >= 0;
  size_t done = 0;
  while (ok && done < w.buf.size()) {
    const ssize_t n = ::write(cur->fd, w.buf.data() + done, w.buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    if (n > 0) done += static_cast<size_t>(n);
  }
  cur->size += done;
  if (!ok) write_failures_.fetch_add(1, std::memory_order_relaxed);
  w.buf.clear();
  if (cur->size >= rotate_bytes_) {
    // The next batch goes to a new file; this one goes once all settled.
    if (cur->unsettled == 0) {
      ::close(cur->fd);
      ::unlink(cur->path.c_str());
      w.files.pop_back();
    }
    w.files.emplace_back();
  }
  return true;
}

void IntentLog::FlushAll() {
  std::lock_guard lock(mu_);
  for (auto& w : writers_) FlushWriter(*w);
}

IntentLogStats IntentLog::Stats() const {
  return IntentLogStats{added_.load(std::memory_order_relaxed),
                        settled_.load(std::memory_order_relaxed),
                        write_failures_.load(std::memory_order_relaxed)};
}

Result<uint64_t> IntentLog::Recover(const std::string& dir, FileReplayLog& replay) {
  std::map<uint64_t, Decoded> intents;
  std::set<uint64_t> settled;
  const auto files = IntentFiles(dir);
  for (const auto& name : files) {
    const std::string data = ReadFile(std::string(dir).append("/").append(name));
    if (data.size() < 4 || std::memcmp(data.data(), kMagic, 4) != 0) continue;
    size_t off = 4;
    while (off + kFrameHeader <= data.size()) {
      const uint32_t len = GetU32(data.data() + off);
      if (len > kMaxFrame || off + kFrameHeader + len > data.size()) break;
      const char* p = data.data() + off + kFrameHeader;
      if (GetU32(data.data() + off + 4) != Crc32c(p, len)) break;
      Reader r(p, len);
      uint8_t kind = 0;
      uint64_t id = 0;
      if (!r.U8(kind) || !r.U64(id)) break;
      if (kind == kSettled) {
        settled.insert(id);
      } else if (kind == kIntent) {
        Decoded d;
        if (!DecodeIntent(r, d)) break;
        intents.emplace(id, std::move(d));
      }
      off += kFrameHeader + len;
    }
  }
  // Both sides, fsync'd (group commit), before the files go.
  std::mutex m;
  std::condition_variable cv;
  uint64_t waiting = 0;
  std::optional<Error> failed;
  uint64_t recovered = 0;
  for (const auto& [id, d] : intents) {
    if (settled.contains(id)) continue;
    ++recovered;
    for (const bool legacy : {true, false}) {
      {
        std::lock_guard lock(m);
        ++waiting;
      }
      replay.Append(RecordFor(d, legacy), false, [&](Result<uint64_t> r) {
        std::lock_guard lock(m);
        if (!r && !failed) failed = r.error();
        --waiting;
        cv.notify_all();
      });
    }
  }
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return waiting == 0; });
  }
  if (failed) {
    return MakeError(failed->code, "write intents: replaying " + std::to_string(recovered) +
                                       " unsettled intents: " + failed->message);
  }
  for (const auto& name : files) ::unlink(std::string(dir).append("/").append(name).c_str());
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return recovered;
}

void IntentLog::AddMetrics(MetricsRegistry& metrics) const {
  metrics.AddCounterFamily(
      "ficus_proxy_write_intents_total",
      "Intents of mirrored writes (replay.intents): added before the write left, settled once "
      "both sides had it; write_failed: flushes not written (alert).",
      [this] {
        const auto s = Stats();
        return std::vector<Sample>{
            {{{"event", "added"}}, static_cast<double>(s.added)},
            {{{"event", "settled"}}, static_cast<double>(s.settled)},
            {{{"event", "write_failed"}}, static_cast<double>(s.write_failures)}};
      });
}

}  // namespace ficus::proxy
