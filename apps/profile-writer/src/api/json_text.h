// JSON text output matching PHP's json_encode with JSON_UNESCAPED_SLASHES |
// JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS (CONTRACT.md
// "Envelope"): `"` and `\` escaped, \b \f \n \r \t, other control bytes
// \u00XX in lowercase hex, everything else (slashes, UTF-8) raw.
#pragma once

#include <string>
#include <string_view>

namespace ficus::writer::api {

// Appends `s` as a quoted JSON string. `s` must be valid UTF-8.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace ficus::writer::api
