// Route groups: routes that share a cohort move together.
//
// A user's reads and writes go through different routes (profile-get,
// profile-update); if those routes could sit in different modes or canary
// shares, one user would be read from one store and written to the other.
// So every route with a cohort belongs to the group named after that cohort,
// and every operator change (mode, percent, pause, fallback reset) and every
// auto-fallback trip applies to the whole group at once; a route without a
// cohort is a group of its own (named after the route).
//
// GroupOf(cfg, route): the names of the routes in `route`'s group, in config
// order (kNotFound naming the route when there is none). GroupName(route):
// the group's name. SumBacklog(): the replay backlog of a group towards each
// side, from a per-(route, backend) lookup. Pure, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/config.h"
#include "domain/mode_guard.h"
#include "ficus/result.h"

namespace ficus::proxy {

std::string GroupName(const Route& route);
Result<std::vector<std::string>> GroupOf(const Config& cfg, std::string_view route);
// Every group of `cfg` by name, routes in config order (for listings).
std::vector<std::pair<std::string, std::vector<std::string>>> Groups(const Config& cfg);

using BacklogLookup = std::function<uint64_t(const std::string& route, const std::string& backend)>;
GuardBacklog SumBacklog(const Config& cfg, const std::vector<std::string>& group,
                        const BacklogLookup& backlog);

}  // namespace ficus::proxy
