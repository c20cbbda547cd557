// ConfigSource: where the proxy's configuration comes from (the YAML file:
// model/config_file.h). Load() reads and validates it now: Error
// kNotFound/kUnavailable (cannot read), kInvalidArgument naming the key
// path (does not validate). Changed(): the source differs from what the last
// Load() read (an atomic rename-over counts). Not thread-safe: one owner
// (LiveConfig) calls it, under its lock.
#pragma once

#include <memory>
#include <string>

#include "domain/config.h"
#include "ficus/result.h"

namespace ficus::proxy {

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  virtual Result<std::shared_ptr<const Config>> Load() = 0;
  [[nodiscard]] virtual bool Changed() const = 0;
  [[nodiscard]] virtual const std::string& name() const = 0;  // for messages: the path
};

}  // namespace ficus::proxy
