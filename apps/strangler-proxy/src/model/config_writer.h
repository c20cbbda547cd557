// ConfigWriter: writes admin changes of a route back into the proxy's YAML
// file, atomically, keeping the file as the operator wrote it.
//
// Contract:
// - UpdateRouteFields() is a pure text transform: it finds `routes[i]` whose
//   `name` equals the route and sets `mode`, `percent`, `paused` (those given).
//   An existing scalar value is replaced in place, so comments, key order,
//   quoting of other values and blank lines survive; a missing key is
//   inserted on its own line right after the route's `name:` line with the
//   same indentation. When the route is written in flow style (or the in-place
//   edit would not re-parse to exactly the intended document) the whole
//   document is re-emitted by yaml-cpp instead: same structure and key
//   order, comments lost. Errors: kInvalidArgument (YAML does not parse, no
//   `routes` sequence), kNotFound (no such route).
// - WriteFileAtomically(): temp file in the same directory, write, fsync,
//   rename over the target (keeping its permission bits), fsync the
//   directory. Readers (every replica watching the file) see the old or the
//   new file, never a mix; a crash leaves at worst a stray temp file.
// - ConfigWriter::UpdateRoute() = read file + UpdateRouteFields + write,
//   serialised by a mutex (one writer per process; replicas should have one
//   admin writer, or last rename wins).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/result.h"

namespace ficus::proxy {

struct RouteFieldUpdate {
  std::optional<std::string> mode;     // legacy|shadow|canary|full (validated by the caller)
  std::optional<uint32_t> percent_bp;  // basis points 0..10000, written as "12.5"
  std::optional<bool> paused;
};

// 1250 -> "12.5", 1000 -> "10", 1 -> "0.01".
std::string FormatPercent(uint32_t percent_bp);

Result<std::string> UpdateRouteFields(std::string_view yaml_text, std::string_view route_name,
                                      const RouteFieldUpdate& update);

Status WriteFileAtomically(const std::string& path, std::string_view contents);

class ConfigWriter {
 public:
  explicit ConfigWriter(std::string path) : path_(std::move(path)) {}
  // Returns the new file text.
  Result<std::string> UpdateRoute(std::string_view route_name, const RouteFieldUpdate& update);
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
};

}  // namespace ficus::proxy
