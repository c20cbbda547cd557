// YamlRouteStore: RouteStore on the proxy's YAML config file. Reads the
// file, edits every route of the group in place (model/config_writer.h keeps comments and
// layout), parses and validates the result like a reload would, and only
// then replaces the file atomically (one write for the whole group). Serialised by a mutex; one
// admin writer per file is assumed (with several, the last rename wins).
#pragma once

#include <mutex>
#include <string>

#include "domain/route_store.h"

namespace ficus::proxy {

class YamlRouteStore final : public RouteStore {
 public:
  explicit YamlRouteStore(std::string path) : path_(std::move(path)) {}
  Status Apply(const std::vector<std::string>& routes, const RouteChange& change) override;

 private:
  std::string path_;
  std::mutex mu_;
};

}  // namespace ficus::proxy
