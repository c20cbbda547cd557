#include "domain/cdc/change_planner.h"

#include <map>
#include <tuple>

#include "domain/update_planner.h"

namespace ficus::migrator::cdc {

namespace {

// Appends `u` to `out`, split at the key and body limits.
void Split(ProfileUpdate u, std::vector<ProfileUpdate>& out) {
  ProfileUpdate part{u.user_id, u.ts_us, {}};
  std::size_t body = 64 + u.user_id.size();
  for (auto& kv : u.attributes) {
    const std::size_t add =
        JsonStringSize(kv.first) + (kv.second ? JsonStringSize(*kv.second) : 4) + 2;
    if (!part.attributes.empty() &&
        (part.attributes.size() >= kMaxKeysPerUpdate || body + add > kMaxBodyBytes)) {
      out.push_back(std::move(part));
      part = ProfileUpdate{u.user_id, u.ts_us, {}};
      body = 64 + u.user_id.size();
    }
    body += add;
    part.attributes.push_back(std::move(kv));
  }
  if (!part.attributes.empty()) out.push_back(std::move(part));
}

}  // namespace

std::vector<ProfileUpdate> PlanChanges(const std::vector<AttributeChange>& changes) {
  // (user, key) -> index of the winning change
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> winner;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    auto [it, fresh] = winner.try_emplace({c.user_id, c.key}, i);
    if (!fresh && changes[it->second].ts_us <= c.ts_us) it->second = i;
  }
  // (user, ts) -> keys, keys in name order (winner's map order)
  std::map<std::pair<std::string_view, std::int64_t>, ProfileUpdate> groups;
  for (const auto& [uk, i] : winner) {
    const auto& c = changes[i];
    auto& u = groups[{c.user_id, c.ts_us}];
    u.user_id = c.user_id;
    u.ts_us = c.ts_us;
    u.attributes.emplace_back(c.key, c.value);
  }
  std::vector<ProfileUpdate> out;
  out.reserve(groups.size());
  for (auto& [k, u] : groups) Split(std::move(u), out);
  return out;
}

std::vector<ProfileUpdate> PlanDeletion(const ProfileDeletion& deletion,
                                        const std::vector<std::string>& live_keys) {
  ProfileUpdate u{deletion.user_id, deletion.ts_us, {}};
  for (const auto& k : live_keys) u.attributes.emplace_back(k, std::nullopt);
  std::vector<ProfileUpdate> out;
  Split(std::move(u), out);
  return out;
}

}  // namespace ficus::migrator::cdc
