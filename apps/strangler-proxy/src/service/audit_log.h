// AuditLog: append-only JSON-lines record of every admin change.
//
// Contract: one line per Append(), a JSON object
//   {"when":"2026-11-22T00:01:13.123Z","when_ms":1763769673123,
//    "token":"ops","what":"route profile-update","before":{...},"after":{...}}
// written with O_APPEND and fdatasync'd before Append() returns (admin
// changes are rare; an acknowledged change must be auditable after a crash).
// `token` is the token's name, never the secret. Errors: kUnavailable when
// the file cannot be opened, kInternal on a failed write or sync.
// Threads: Append() is thread-safe; lines never interleave.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "ficus/result.h"

namespace ficus::proxy {

struct AuditEntry {
  std::string what;  // e.g. "route profile-update"
  boost::json::value before;
  boost::json::value after;
  int64_t when_ms = 0;  // Unix ms; 0 = now
  std::string token_name;
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  Status Append(const AuditEntry& entry);

  // Renders the line Append() writes (without the newline).
  static std::string Render(const AuditEntry& entry);

 private:
  explicit AuditLog(int fd) : fd_(fd) {}
  std::mutex mu_;
  int fd_ = -1;
};

}  // namespace ficus::proxy
