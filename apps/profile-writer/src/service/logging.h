// One named spdlog logger per module ("writer.api", "writer.store", ...).
// Loggers are created on first use and shared; thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace ficus::writer {

// The logger called `name`, created with the process-wide sink on first use.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

// Sets the level of every writer logger ("trace".."off"); false if unknown.
bool SetLogLevel(const std::string& level);

}  // namespace ficus::writer
