#include "service/url.h"

#include <cctype>

namespace ficus::migrator {

Result<HttpUrl> ParseHttpUrl(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, "'" + std::string(text) + "': " + why);
  };
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) return bad("must start with http://");
  std::string_view rest = text.substr(kScheme.size());
  HttpUrl url;
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.prefix = std::string(rest.substr(slash));
    while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
    if (url.prefix.find_first_of("?#") != std::string::npos) return bad("no query or fragment");
  }
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) return bad("port must be 1 to 65535");
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return bad("port must be 1 to 65535");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return bad("port must be 1 to 65535");
    url.port = p;
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return bad("missing host");
  for (char c : authority) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return bad("host must be a name or IPv4 address");
    }
  }
  url.host = std::string(authority);
  return url;
}

}  // namespace ficus::migrator
