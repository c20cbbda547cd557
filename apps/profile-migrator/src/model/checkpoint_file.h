// Durable checkpoint file I/O.
//
// Save writes `text` to PATH.tmp, fsyncs it, renames it over PATH and fsyncs
// the directory, so a crash at any point leaves either the old or the new
// checkpoint, never a torn one. Load returns NotFound when PATH does not
// exist. Errors name the path and the system error.
#pragma once

#include <string>

#include "ficus/result.h"

namespace ficus::migrator {

Result<std::string> LoadFile(const std::string& path);
Status SaveFileAtomic(const std::string& path, const std::string& text);

}  // namespace ficus::migrator
