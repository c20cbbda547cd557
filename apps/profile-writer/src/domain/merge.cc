#include "domain/merge.h"

#include <algorithm>

namespace ficus::writer {

bool CellBeats(const Cell& a, const Cell& b) {
  if (a.ts_us != b.ts_us) return a.ts_us > b.ts_us;
  if (!a.value.has_value()) return b.value.has_value();  // tombstone beats a value
  if (!b.value.has_value()) return false;
  return *a.value > *b.value;
}

void MergeInto(Profile& base, const Profile& other) {
  base.updated_us = std::max(base.updated_us, other.updated_us);
  for (const auto& [key, cell] : other.cells) {
    auto it = base.cells.find(key);
    if (it == base.cells.end()) {
      base.cells.emplace(key, cell);
    } else if (CellBeats(cell, it->second)) {
      it->second = cell;
    }
  }
}

void MergeInto(Profile& base, Profile&& other) {
  base.updated_us = std::max(base.updated_us, other.updated_us);
  for (auto& [key, cell] : other.cells) {
    auto it = base.cells.lower_bound(key);
    if (it == base.cells.end() || it->first != key) {
      base.cells.emplace_hint(it, key, std::move(cell));
    } else if (CellBeats(cell, it->second)) {
      it->second = std::move(cell);
    }
  }
}

Profile ToProfile(const ProfileUpdate& update) {
  Profile p;
  p.updated_us = update.ts_us;
  for (const auto& [key, value] : update.attributes) {
    p.cells.emplace(key, Cell{update.ts_us, value});
  }
  return p;
}

Profile ToProfile(ProfileUpdate&& update) {
  Profile p;
  p.updated_us = update.ts_us;
  while (!update.attributes.empty()) {
    auto node = update.attributes.extract(update.attributes.begin());
    p.cells.emplace_hint(p.cells.end(), std::move(node.key()),
                         Cell{update.ts_us, std::move(node.mapped())});
  }
  return p;
}

std::map<std::string, std::string, std::less<>> VisibleAttributes(const Profile& profile) {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [key, cell] : profile.cells) {
    if (cell.value) out.emplace_hint(out.end(), key, *cell.value);
  }
  return out;
}

}  // namespace ficus::writer
