#include "service/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "ficus/clock.h"
#include "service/json_text.h"

namespace ficus::proxy {
namespace {

std::string Iso8601(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "audit log: cannot open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AuditLog::Render(const AuditEntry& e) {
  int64_t when = e.when_ms;
  if (when == 0) {
    when = UnixMillis(SystemClock::WallNow());
  }
  boost::json::object o;
  o["when"] = Iso8601(when);
  o["when_ms"] = when;
  o["token"] = e.token_name;
  o["what"] = e.what;
  o["before"] = e.before;
  o["after"] = e.after;
  return JsonText(o);
}

Status AuditLog::Append(const AuditEntry& entry) {
  std::string line = Render(entry) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  // O_APPEND + one write(2) per line: lines stay whole even with other writers.
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size())) {
    return MakeError(ErrorCode::kInternal,
                     std::string("audit log: write failed: ") + std::strerror(errno));
  }
  if (::fdatasync(fd_) != 0) {
    return MakeError(ErrorCode::kInternal,
                     std::string("audit log: fdatasync failed: ") + std::strerror(errno));
  }
  return {};
}

}  // namespace ficus::proxy
