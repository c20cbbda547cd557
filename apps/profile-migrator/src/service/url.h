// http:// URL parsing for --writer-url / --legacy-url. Only plain HTTP to
// an IP or host name with an explicit or default (80) port; a path prefix is
// kept (no trailing slash). Errors name the option value and the rule.
#pragma once

#include <string>
#include <string_view>

#include "ficus/result.h"

namespace ficus::migrator {

struct HttpUrl {
  std::string host;
  int port = 80;
  std::string prefix;  // "" or "/something"
  [[nodiscard]] std::string ToString() const {
    return "http://" + host + ":" + std::to_string(port) + prefix;
  }
};

Result<HttpUrl> ParseHttpUrl(std::string_view text);

}  // namespace ficus::migrator
