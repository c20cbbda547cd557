#include "domain/bulk_import.h"

#include <map>
#include <string>

namespace ficus::writer {

void WithholdUsersWithRejections(std::vector<ImportRecord>& records) {
  std::map<Uuid, std::size_t> first_rejected;  // user -> index of its first rejected record
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].user && !records[i].update) first_rejected.try_emplace(*records[i].user, i);
  }
  if (first_rejected.empty()) return;
  for (auto& r : records) {
    if (!r.update || !r.user) continue;
    auto it = first_rejected.find(*r.user);
    if (it == first_rejected.end()) continue;
    r.update = MakeError(ErrorCode::kConflict, "user_id: not applied: record " +
                                                   std::to_string(it->second + 1) +
                                                   " of this user was rejected");
  }
}

}  // namespace ficus::writer
