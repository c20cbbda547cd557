// Small file helpers for tests (logs, ready files, configs).
// Threads: safe from any thread (no shared state).
#pragma once

#include <string>

namespace ficus::testing {

// The whole file as bytes; "" when it does not exist or cannot be read.
[[nodiscard]] std::string ReadFile(const std::string& path);

// Replaces the file with `text` (created if missing); false on error.
// `atomic`: written to path + ".tmp" and renamed over `path`, so a reader
// sees the old or the new content, never a part.
bool WriteFile(const std::string& path, const std::string& text, bool atomic = false);

}  // namespace ficus::testing
