#include "model/config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ficus::proxy {

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                     path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto cfg = ParseConfig(ss.str(), dir);
  if (!cfg) return MakeError(cfg.error().code, path + ": " + cfg.error().message);
  return cfg;
}

Result<FileStamp> StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return MakeError(ErrorCode::kNotFound, path + ": " + std::strerror(errno));
  }
  FileStamp s;
  s.inode = st.st_ino;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

Result<std::shared_ptr<const Config>> ConfigFile::Load() {
  stamp_ = StatFile(path_).value_or(FileStamp{});
  return LoadConfigFile(path_);
}

bool ConfigFile::Changed() const {
  auto now = StatFile(path_);
  return now && !(*now == stamp_);
}

}  // namespace ficus::proxy
