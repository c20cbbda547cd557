// JSON string text, byte for byte as PHP's json_encode writes it with
// JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE |
// JSON_UNESCAPED_LINE_TERMINATORS (the API contract's envelope, see
// packages/api-contract): `"` and `\` escaped, \b \f \n \r \t, every other
// byte below 0x20 as \u00XX in lowercase hex; everything else ('/', DEL,
// UTF-8 including U+2028/U+2029) as is. The one JSON string writer of the
// project: the writer's responses, packages/http's error envelopes, the
// proxy's access and audit logs. `s` should be valid UTF-8 (bytes are
// copied as they are). Pure, allocation only in `out`.
#pragma once

#include <string>
#include <string_view>

namespace ficus {

// Appends `s` escaped, without quotes.
inline void AppendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t run = 0;  // start of the pending run of bytes copied as is
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
}

// Appends `s` as a quoted JSON string.
inline void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  AppendJsonEscaped(out, s);
  out.push_back('"');
}

}  // namespace ficus
