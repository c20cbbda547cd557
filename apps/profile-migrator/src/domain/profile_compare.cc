#include "domain/profile_compare.h"

namespace ficus::migrator {

const char* DiffKindName(DiffKind kind) {
  switch (kind) {
    case DiffKind::kEqual:
      return "equal";
    case DiffKind::kMissingInModern:
      return "missing_in_modern";
    case DiffKind::kMissingInLegacy:
      return "missing_in_legacy";
    case DiffKind::kAttributes:
      return "attributes";
    case DiffKind::kUpdatedAt:
      return "updated_at";
  }
  return "?";
}

std::map<std::string, std::string> LiveAttributes(const LegacyProfile& profile) {
  std::map<std::string, std::string> out;
  for (const auto& k : profile.keys) {
    if (k.value) out.emplace(k.key, *k.value);
  }
  return out;
}

ProfileDiff CompareProfiles(const std::optional<LegacyProfile>& legacy,
                            const std::optional<ModernProfile>& modern) {
  const auto live_legacy = legacy ? LiveAttributes(*legacy) : std::map<std::string, std::string>{};
  const auto empty = std::map<std::string, std::string>{};
  const auto& live_modern = modern ? modern->attributes : empty;
  ProfileDiff d;
  auto l = live_legacy.begin();
  auto m = live_modern.begin();
  while (l != live_legacy.end() || m != live_modern.end()) {
    if (m == live_modern.end() || (l != live_legacy.end() && l->first < m->first)) {
      d.keys.push_back({l->first, l->second, std::nullopt});
      ++l;
    } else if (l == live_legacy.end() || m->first < l->first) {
      d.keys.push_back({m->first, std::nullopt, m->second});
      ++m;
    } else {
      if (l->second != m->second) d.keys.push_back({l->first, l->second, m->second});
      ++l;
      ++m;
    }
  }
  const bool legacy_has = legacy && !legacy->keys.empty();
  if (legacy_has && !modern) {
    d.kind = DiffKind::kMissingInModern;
  } else if (!legacy && modern) {
    d.kind = DiffKind::kMissingInLegacy;
  } else if (!d.keys.empty()) {
    d.kind = DiffKind::kAttributes;
  } else if (legacy_has && modern && legacy->updated_us > modern->updated_us) {
    d.kind = DiffKind::kUpdatedAt;
  }
  return d;
}

}  // namespace ficus::migrator
