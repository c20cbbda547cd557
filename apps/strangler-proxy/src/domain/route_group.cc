#include "domain/route_group.h"

#include <algorithm>

namespace ficus::proxy {

std::string GroupName(const Route& route) {
  return route.cohort.empty() ? route.name : route.cohort;
}

Result<std::vector<std::string>> GroupOf(const Config& cfg, std::string_view route) {
  const Route* self = nullptr;
  for (const auto& r : cfg.routes) {
    if (r.name == route) self = &r;
  }
  if (!self) {
    return MakeError(ErrorCode::kNotFound, "route: no route named '" + std::string(route) + "'");
  }
  if (self->cohort.empty()) return std::vector<std::string>{self->name};
  std::vector<std::string> out;
  for (const auto& r : cfg.routes) {
    if (r.cohort == self->cohort) out.push_back(r.name);
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Groups(const Config& cfg) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& r : cfg.routes) {
    const std::string g = GroupName(r);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == g; });
    if (it == out.end()) {
      out.emplace_back(g, std::vector<std::string>{r.name});
    } else {
      it->second.push_back(r.name);
    }
  }
  return out;
}

GuardBacklog SumBacklog(const Config& cfg, const std::vector<std::string>& group,
                        const BacklogLookup& backlog) {
  GuardBacklog b;
  for (const auto& r : cfg.routes) {
    if (std::find(group.begin(), group.end(), r.name) == group.end()) continue;
    b.to_legacy += backlog(r.name, r.legacy_backend);
    b.to_modern += backlog(r.name, r.modern_backend);
  }
  return b;
}

}  // namespace ficus::proxy
