#include "domain/update_planner.h"

#include <map>

#include "domain/legacy_rules.h"

namespace ficus::migrator {

std::size_t JsonStringSize(const std::string& s) {
  std::size_t n = 2;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

namespace {

using Entry = std::pair<std::string, std::optional<std::string>>;

void AppendSplit(const std::string& user_id, std::int64_t ts, const std::vector<Entry>& entries,
                 std::size_t max_keys, std::size_t max_body, std::vector<ProfileUpdate>& out) {
  // {"user_id":"<36>","attributes":{...}}
  const std::size_t base = 64;
  ProfileUpdate cur{user_id, ts, {}};
  std::size_t size = base;
  for (const auto& e : entries) {
    const std::size_t add =
        JsonStringSize(e.first) + 2 + (e.second ? JsonStringSize(*e.second) : 4);
    if (!cur.attributes.empty() && (cur.attributes.size() >= max_keys || size + add > max_body)) {
      out.push_back(std::move(cur));
      cur = ProfileUpdate{user_id, ts, {}};
      size = base;
    }
    cur.attributes.push_back(e);
    size += add;
  }
  if (!cur.attributes.empty()) out.push_back(std::move(cur));
}

}  // namespace

Result<std::vector<ProfileUpdate>> PlanUpdates(const LegacyProfile& p, std::size_t max_keys,
                                               std::size_t max_body) {
  // Every group of the user is checked before any is planned: a user is
  // migrated whole or not at all.
  if (auto s = CheckMigratable(p); !s) return tl::unexpected(s.error());
  std::map<std::int64_t, std::vector<Entry>> groups;
  for (const auto& k : p.keys) groups[k.updated_us].emplace_back(k.key, k.value);
  std::vector<ProfileUpdate> out;
  for (const auto& [ts, entries] : groups)
    AppendSplit(p.user_id, ts, entries, max_keys, max_body, out);
  return out;
}

std::vector<ProfileUpdate> PlanOverwrite(const std::string& user_id,
                                         const std::vector<KeyState>& current,
                                         const std::map<std::string, std::string>& wanted,
                                         std::int64_t ts_us, std::size_t max_keys,
                                         std::size_t max_body) {
  std::map<std::string, std::optional<std::string>> changes;
  std::map<std::string, const KeyState*> have;
  for (const auto& k : current) have[k.key] = &k;
  for (const auto& [key, value] : wanted) {
    auto it = have.find(key);
    if (it == have.end() || it->second->value != value) changes[key] = value;
  }
  for (const auto& k : current) {
    if (k.value && !wanted.contains(k.key)) changes[k.key] = std::nullopt;
  }
  std::vector<Entry> entries(changes.begin(), changes.end());
  std::vector<ProfileUpdate> out;
  AppendSplit(user_id, ts_us, entries, max_keys, max_body, out);
  return out;
}

}  // namespace ficus::migrator
