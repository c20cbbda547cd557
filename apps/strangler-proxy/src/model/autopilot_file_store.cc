#include "model/autopilot_file_store.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "model/config_writer.h"

namespace ficus::proxy {

Result<std::vector<AutopilotRecord>> AutopilotFileStore::Load() {
  std::lock_guard lock(mu_);
  records_.clear();
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::vector<AutopilotRecord>{};
    return MakeError(ErrorCode::kUnavailable,
                     "autopilot state " + path_ + ": cannot read: " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto rs = DecodeAutopilotRecords(ss.str(), path_);
  if (!rs) return rs;
  for (const auto& r : *rs) records_[r.group] = r;
  return rs;
}

Status AutopilotFileStore::Save(const AutopilotRecord& record) {
  std::lock_guard lock(mu_);
  records_[record.group] = record;
  std::vector<AutopilotRecord> all;
  all.reserve(records_.size());
  for (const auto& [g, r] : records_) all.push_back(r);
  auto st = WriteFileAtomically(path_, EncodeAutopilotRecords(all));
  if (!st) {
    return MakeError(ErrorCode::kUnavailable,
                     "autopilot state " + path_ + ": " + st.error().message);
  }
  return {};
}

}  // namespace ficus::proxy
