#include "service/access_log.h"

#include <cerrno>
#include <cstring>

#include "ficus/http/message.h"

namespace ficus::proxy {

AccessLog::~AccessLog() {
  Flush();
  if (owned_ && file_) std::fclose(file_);
}

Status AccessLog::Open(const std::string& where) {
  std::lock_guard lock(mu_);
  if (where == "off") return {};
  if (where == "-") {
    file_ = stdout;
    return {};
  }
  file_ = std::fopen(where.c_str(), "ae");
  if (!file_) {
    return MakeError(ErrorCode::kUnavailable,
                     "access_log: cannot open " + where + ": " + std::strerror(errno));
  }
  owned_ = true;
  buf_ = std::make_unique<char[]>(64UL * 1024);
  std::setvbuf(file_, buf_.get(), _IOFBF, 64UL * 1024);
  return {};
}

void AccessLog::Write(std::string_view line) {
  if (!file_) return;
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
}

void AccessLog::Flush() {
  std::lock_guard lock(mu_);
  if (file_) std::fflush(file_);
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  http::AppendJsonEscaped(out, s);
  out.push_back('"');
}

}  // namespace ficus::proxy
