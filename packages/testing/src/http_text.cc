#include "ficus/testing/http_text.h"

#include <cctype>
#include <cstdlib>

namespace ficus::testing {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int StatusOf(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return -1;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

std::string BodyOf(std::string_view response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

std::vector<std::pair<std::string, std::string>> HeadersOf(std::string_view response) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string_view head = response.substr(0, response.find("\r\n\r\n"));
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string_view line = head.substr(
        pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      out.emplace_back(std::string(line.substr(0, colon)), std::string(v));
    }
    pos = next;
  }
  return out;
}

std::optional<std::string> HeaderOf(std::string_view response, std::string_view name) {
  for (auto& [n, v] : HeadersOf(response)) {
    if (IEquals(n, name)) return std::move(v);
  }
  return std::nullopt;
}

}  // namespace ficus::testing
