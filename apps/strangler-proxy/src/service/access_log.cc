#include "service/access_log.h"

#include <cerrno>
#include <cstring>

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
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace ficus::proxy
