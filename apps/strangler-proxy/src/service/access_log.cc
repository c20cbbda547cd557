#include "service/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ficus/http/message.h"

namespace ficus::proxy {
namespace {

// True when the file's last byte is not a newline (a torn last line).
bool EndsTorn(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return false;
  char last = '\n';
  return ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
}

bool WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

AccessLog::~AccessLog() {
  Flush();
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Status AccessLog::Open(const std::string& where) {
  std::lock_guard lock(mu_);
  if (where == "off") return {};
  buf_.reserve(kBufferBytes + 4096);
  if (where == "-") {
    fd_ = STDOUT_FILENO;
    return {};
  }
  // O_RDWR for the torn-line check (pread); O_APPEND keeps every write(2)
  // at the end even with another writer.
  fd_ = ::open(where.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "access_log: cannot open " + where + ": " + std::strerror(errno));
  }
  owned_ = true;
  if (EndsTorn(fd_) && !WriteAll(fd_, "\n", 1)) {
    return MakeError(ErrorCode::kUnavailable,
                     "access_log: cannot write to " + where + ": " + std::strerror(errno));
  }
  return {};
}

void AccessLog::Write(std::string_view line) {
  if (fd_ < 0) return;
  std::lock_guard lock(mu_);
  buf_.append(line);
  buf_.push_back('\n');
  ++buffered_lines_;
  if (buf_.size() >= kBufferBytes) WriteOutLocked();
}

void AccessLog::WriteOutLocked() {
  if (buf_.empty()) return;
  // The buffer holds whole lines only; a failed or short write(2) can leave
  // a torn line in the file, which the next Open() closes with a newline.
  if (!WriteAll(fd_, buf_.data(), buf_.size())) dropped_.fetch_add(buffered_lines_);
  buf_.clear();
  buffered_lines_ = 0;
}

void AccessLog::Flush() {
  std::lock_guard lock(mu_);
  if (fd_ >= 0) WriteOutLocked();
}

}  // namespace ficus::proxy
