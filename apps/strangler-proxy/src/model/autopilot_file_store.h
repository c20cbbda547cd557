// AutopilotFileStore: the single proxy's AutopilotStore
// (domain/autopilot_store.h): every group's record in one JSON document at
// `path` (default <config dir>/autopilot-state.json), rewritten whole and
// atomically on each Save() (model/config_writer.h WriteFileAtomically:
// temp file, fsync, rename, fsync of the directory), so a crash leaves the
// old document or the new one, never half of one.
// Load(): a missing file is no record; an unreadable or undecodable one is an
// error naming the path (the proxy refuses to start rather than forget a
// running plan). Always leads. Thread-safe (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "domain/autopilot_store.h"

namespace ficus::proxy {

class AutopilotFileStore final : public AutopilotStore {
 public:
  explicit AutopilotFileStore(std::string path) : path_(std::move(path)) {}
  bool Leads() const override { return true; }
  std::string Leader() const override { return ""; }
  Result<std::vector<AutopilotRecord>> Load() override;
  Status Save(const AutopilotRecord& record) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
  std::map<std::string, AutopilotRecord> records_;  // by group
};

}  // namespace ficus::proxy
