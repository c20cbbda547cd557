#include "model/yaml_route_store.h"

#include <fstream>
#include <sstream>

#include "model/config_writer.h"

namespace ficus::proxy {

Status YamlRouteStore::Apply(const std::vector<std::string>& routes, const RouteChange& change) {
  std::lock_guard lock(mu_);
  std::ifstream in(path_, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kUnavailable, "config: cannot read " + path_);
  std::stringstream ss;
  ss << in.rdbuf();
  RouteFieldUpdate u;
  if (change.mode) u.mode = std::string(ModeName(*change.mode));
  u.percent_bp = change.percent_bp;
  u.paused = change.paused;
  Result<std::string> text = ss.str();
  for (const auto& route : routes) {
    text = UpdateRouteFields(*text, route, u);
    if (!text) return tl::unexpected(text.error());
  }
  const auto slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash);
  if (auto parsed = ParseConfig(*text, dir); !parsed) {
    return MakeError(ErrorCode::kInvalidArgument, parsed.error().message);
  }
  return WriteFileAtomically(path_, *text);
}

}  // namespace ficus::proxy
