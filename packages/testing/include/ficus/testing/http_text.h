// Reading HTTP/1.1 response bytes in tests (as RawClient returns them):
// status, header fields and body. Lenient on purpose: a test shows what it
// got, it does not validate the framing (see the proxy's WireClient for that).
// Threads: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ficus::testing {

// The status code of "HTTP/x.y NNN ...", or -1 when `response` does not start so.
[[nodiscard]] int StatusOf(std::string_view response);
// Everything after the first blank line ("" when there is none).
[[nodiscard]] std::string BodyOf(std::string_view response);
// Value of the first field `name` (case-insensitive), leading spaces trimmed.
[[nodiscard]] std::optional<std::string> HeaderOf(std::string_view response, std::string_view name);
// Every field of the head, in order, as sent (names not case-folded).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> HeadersOf(std::string_view response);
// ASCII case-insensitive equality (header names).
[[nodiscard]] bool IEquals(std::string_view a, std::string_view b);

}  // namespace ficus::testing
