// Timestamp text of the API: UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always six
// fraction digits. Pure.
#pragma once

#include <cstdint>
#include <string>

namespace ficus::writer {

// `us` is microseconds since the Unix epoch, >= 0.
std::string FormatTimestampUs(std::int64_t us);
// Appends FormatTimestampUs(us) to `out` (no allocation beyond out's growth).
void AppendTimestampUs(std::string& out, std::int64_t us);

}  // namespace ficus::writer
