// AccessLog: one JSON object per line, buffered.
//
// Contract: Write() is thread-safe (one mutex, no I/O syscall per line:
// stdio buffering of 64 KiB); Flush() pushes buffered lines to the file
// (the proxy calls it about once a second and at shutdown). A disabled log
// ("off") costs one branch per request. Open failures are reported by Open().
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

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
  [[nodiscard]] bool enabled() const { return file_ != nullptr; }
  void Write(std::string_view line);  // line without the trailing newline
  void Flush();

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::unique_ptr<char[]> buf_;
};

// Appends `s` as a JSON string literal (with quotes).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace ficus::proxy
