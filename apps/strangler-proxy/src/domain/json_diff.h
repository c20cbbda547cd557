// JsonDiffer: compares the legacy and modern answers to one request.
//
// Contract:
// - Status codes are compared first (difference reported at path "status").
// - The same status and byte-identical bodies are equal at once, without
//   parsing (compared_as_json stays false).
// - Bodies: when both parse as JSON (Boost.JSON) they are compared
//   structurally: object key order is irrelevant, numbers compare by value
//   (1 == 1.0 == 1e0; integers beyond 2^53 compare exactly), arrays by index
//   (a longer array reports the extra elements as absent on the other side),
//   a type change (1 vs "1", {} vs []) is one difference at that path.
//   Otherwise (either side not JSON) the bodies compare as bytes, reported at
//   path "body".
// - Paths are dotted: `data.attributes.plan`, array elements `items[3]`,
//   keys that are not plain identifiers quoted: `data.attributes["a.b"]`.
// - Ignore patterns use the same syntax plus wildcards: `*` / `[*]` match
//   any one key or index, `**` matches any number (>= 0) of segments, e.g.
//   `data.updated_at`, `data.items[*].ts`, `**.updated_at`. An ignored path
//   and everything below it is skipped on both sides.
// - At most `max_diffs` differences are collected (`truncated` is set when
//   more existed). Values in FieldDiff are compact JSON text, nullopt when
//   the path is absent on that side; long values are cut to
//   `max_value_bytes` with a trailing "...".
// Threads: a JsonDiffer is immutable after Create(); Compare() is const and
// safe to call from many threads at once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::proxy {

struct HttpAnswer {
  int status = 0;
  std::string_view body;
};

struct FieldDiff {
  std::string path;
  std::optional<std::string> legacy;  // compact JSON text; nullopt = absent
  std::optional<std::string> modern;
  bool operator==(const FieldDiff&) const = default;
};

struct DiffResult {
  bool equal = true;
  bool compared_as_json = false;
  bool truncated = false;
  std::vector<FieldDiff> diffs;
};

// One parsed path segment: a key, an index, or a wildcard.
struct PathSegment {
  enum class Kind { kKey, kIndex, kAnyOne, kAnyDepth };
  Kind kind = Kind::kKey;
  std::string key;
  size_t index = 0;
  bool operator==(const PathSegment&) const = default;
};

// Parses `a.b[2]["x.y"].*` into segments. Errors name the pattern and the
// offending character position.
Result<std::vector<PathSegment>> ParsePathPattern(std::string_view pattern);

class JsonDiffer {
 public:
  struct Options {
    size_t max_diffs = 64;
    size_t max_value_bytes = 512;
  };
  // Fails (kInvalidArgument, message "compare.ignore[i]: ...") on a bad pattern.
  static Result<JsonDiffer> Create(const std::vector<std::string>& ignore, Options options);
  static Result<JsonDiffer> Create(const std::vector<std::string>& ignore) {
    return Create(ignore, Options{});
  }

  [[nodiscard]] DiffResult Compare(const HttpAnswer& legacy, const HttpAnswer& modern) const;

  // True when the concrete path (no wildcards) is covered by an ignore pattern.
  [[nodiscard]] bool IsIgnored(const std::vector<PathSegment>& path) const;

 private:
  JsonDiffer() = default;
  std::vector<std::vector<PathSegment>> ignore_;
  Options options_;
};

// Renders a concrete path as text (`data.items[0]["a.b"]`).
std::string FormatPath(const std::vector<PathSegment>& path);

}  // namespace ficus::proxy
