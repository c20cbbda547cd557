// AccessLog: one JSON object per line, buffered, whole lines only.
//
// Contract: Write() is thread-safe (one mutex, no I/O syscall per line: lines
// gather in a 64 KiB buffer); the buffer goes to the file with write(2) in
// whole lines only, when it fills and on Flush() (the proxy calls it about
// once a second and at shutdown). A crash (kill -9) therefore loses at most
// the lines buffered since the last flush, never half a line. Open() starts
// a fresh line when the file ends in a torn line (left by a crash of an older
// version, or a full disk), so the next entry is never glued onto it. A
// disabled log ("off") costs one branch per request. Open failures are
// reported by Open(); write errors drop the buffered lines (counted in
// dropped_lines()).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "ficus/json_text.h"
#include "ficus/result.h"

namespace ficus::proxy {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // "-" = stdout, "off" = disabled, else a file opened for append.
  Status Open(const std::string& where);
  [[nodiscard]] bool enabled() const { return fd_ >= 0; }
  void Write(std::string_view line);  // line without the trailing newline
  void Flush();
  [[nodiscard]] uint64_t dropped_lines() const { return dropped_.load(); }

  static constexpr std::size_t kBufferBytes = 64UL * 1024;

 private:
  void WriteOutLocked();

  std::mutex mu_;
  int fd_ = -1;
  bool owned_ = false;
  std::string buf_;
  uint64_t buffered_lines_ = 0;
  std::atomic<uint64_t> dropped_{0};
};

// Appends `s` as a JSON string literal (with quotes): ficus/json_text.h.
using ficus::AppendJsonString;

}  // namespace ficus::proxy
