// The proxy's config file: load (read + parse + validate) and change
// detection for hot reload (ConfigFile: the ConfigSource of LiveConfig).
//
// LoadConfigFile(): Error kNotFound/kUnavailable when the file cannot be
// read, kInvalidArgument (message = "<path>: <key path>: <reason>") when it
// does not validate. Relative paths inside resolve against the file's
// directory. FileStamp identifies a version of the file (inode, size,
// mtime), so an atomic rename-over is seen as a change.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/config.h"
#include "domain/config_source.h"
#include "ficus/result.h"

namespace ficus::proxy {

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path);

struct FileStamp {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
Result<FileStamp> StatFile(const std::string& path);

// The config file as a ConfigSource: Changed() compares the file's stamp
// with the one Load() last read.
class ConfigFile final : public ConfigSource {
 public:
  explicit ConfigFile(std::string path) : path_(std::move(path)) {}
  Result<std::shared_ptr<const Config>> Load() override;
  [[nodiscard]] bool Changed() const override;
  [[nodiscard]] const std::string& name() const override { return path_; }

 private:
  std::string path_;
  FileStamp stamp_;
};

}  // namespace ficus::proxy
