#include "domain/json_diff.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <utility>

namespace ficus::proxy {
namespace {

namespace json = boost::json;

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == ':';
}

bool IsPlainKey(std::string_view key) {
  if (key.empty() || key == "*" || key == "**") return false;
  for (char c : key) {
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

Result<std::vector<PathSegment>> ParseError(std::string_view pattern, size_t pos,
                                            std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument, "path pattern \"" + std::string(pattern) +
                                                    "\" at " + std::to_string(pos) + ": " +
                                                    std::string(why));
}

// Structural comparison state: collects diffs under the ignore rules.
class Walker {
 public:
  Walker(const JsonDiffer& differ, const JsonDiffer::Options& options, DiffResult& out)
      : differ_(differ), options_(options), out_(out) {}

  void Walk(const json::value* a, const json::value* b) {
    if (differ_.IsIgnored(path_)) return;
    if (a == nullptr || b == nullptr) {
      if (a != b) Add(a, b);
      return;
    }
    if (a->is_number() && b->is_number()) {
      if (!NumbersEqual(*a, *b)) Add(a, b);
      return;
    }
    if (a->kind() != b->kind()) {
      Add(a, b);
      return;
    }
    switch (a->kind()) {
      case json::kind::object:
        WalkObject(a->get_object(), b->get_object());
        return;
      case json::kind::array:
        WalkArray(a->get_array(), b->get_array());
        return;
      case json::kind::string:
        if (a->get_string() != b->get_string()) Add(a, b);
        return;
      case json::kind::bool_:
        if (a->get_bool() != b->get_bool()) Add(a, b);
        return;
      default:
        return;  // null == null
    }
  }

 private:
  static bool NumbersEqual(const json::value& a, const json::value& b) {
    // Exact when both are integers (int64 or uint64), by value otherwise.
    if (!a.is_double() && !b.is_double()) {
      if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
      if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
      const json::value& s = a.is_int64() ? a : b;  // mixed: the signed one
      const json::value& u = a.is_int64() ? b : a;
      return s.get_int64() >= 0 && static_cast<uint64_t>(s.get_int64()) == u.get_uint64();
    }
    double x = a.to_number<double>();
    double y = b.to_number<double>();
    return x == y;
  }

  void WalkObject(const json::object& a, const json::object& b) {
    for (const auto& kv : a) {
      if (Full()) return;
      const json::value* other = b.if_contains(kv.key());
      Push(kv.key());
      Walk(&kv.value(), other);
      path_.pop_back();
    }
    for (const auto& kv : b) {
      if (Full()) return;
      if (a.contains(kv.key())) continue;
      Push(kv.key());
      Walk(nullptr, &kv.value());
      path_.pop_back();
    }
  }

  void WalkArray(const json::array& a, const json::array& b) {
    size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n && !Full(); ++i) {
      PathSegment seg;
      seg.kind = PathSegment::Kind::kIndex;
      seg.index = i;
      path_.push_back(seg);
      Walk(i < a.size() ? &a[i] : nullptr, i < b.size() ? &b[i] : nullptr);
      path_.pop_back();
    }
  }

  void Push(std::string_view key) {
    PathSegment seg;
    seg.kind = PathSegment::Kind::kKey;
    seg.key = std::string(key);
    path_.push_back(std::move(seg));
  }

  [[nodiscard]] bool Full() const { return out_.truncated; }

  std::optional<std::string> Render(const json::value* v) const {
    if (v == nullptr) return std::nullopt;
    std::string s = json::serialize(*v);
    if (s.size() > options_.max_value_bytes) {
      s.resize(options_.max_value_bytes);
      s += "...";
    }
    return s;
  }

  void Add(const json::value* a, const json::value* b) {
    out_.equal = false;
    if (out_.diffs.size() >= options_.max_diffs) {
      out_.truncated = true;
      return;
    }
    out_.diffs.push_back(FieldDiff{FormatPath(path_), Render(a), Render(b)});
  }

  const JsonDiffer& differ_;
  const JsonDiffer::Options& options_;
  DiffResult& out_;
  std::vector<PathSegment> path_;
};

std::optional<json::value> TryParse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

// Matches a pattern against a concrete path; the pattern covers the path when
// it matches the path or any prefix of it (ignoring `a` ignores `a.b`).
bool Covers(const std::vector<PathSegment>& pat, size_t pi, const std::vector<PathSegment>& path,
            size_t i) {
  if (pi == pat.size()) return true;  // pattern consumed: path is at or below it
  const PathSegment& p = pat[pi];
  if (p.kind == PathSegment::Kind::kAnyDepth) {
    for (size_t j = i; j <= path.size(); ++j) {
      if (Covers(pat, pi + 1, path, j)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  const PathSegment& s = path[i];
  bool ok = false;
  switch (p.kind) {
    case PathSegment::Kind::kAnyOne:
      ok = true;
      break;
    case PathSegment::Kind::kKey:
      // A numeric key in a dotted pattern (`items.0`) also matches index 0.
      ok = (s.kind == PathSegment::Kind::kKey && s.key == p.key) ||
           (s.kind == PathSegment::Kind::kIndex && p.key == std::to_string(s.index));
      break;
    case PathSegment::Kind::kIndex:
      ok = s.kind == PathSegment::Kind::kIndex && s.index == p.index;
      break;
    case PathSegment::Kind::kAnyDepth:
      break;
  }
  return ok && Covers(pat, pi + 1, path, i + 1);
}

}  // namespace

Result<std::vector<PathSegment>> ParsePathPattern(std::string_view pattern) {
  std::vector<PathSegment> out;
  size_t i = 0;
  if (pattern.empty()) return ParseError(pattern, 0, "empty pattern");
  bool need_segment = true;  // at start or after '.'
  while (i < pattern.size()) {
    char c = pattern[i];
    PathSegment seg;
    if (c == '[') {
      size_t close = pattern.find(']', i);
      if (close == std::string_view::npos) return ParseError(pattern, i, "unclosed '['");
      std::string_view inner = pattern.substr(i + 1, close - i - 1);
      if (inner == "*") {
        seg.kind = PathSegment::Kind::kAnyOne;
      } else if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') {
        seg.kind = PathSegment::Kind::kKey;
        seg.key = std::string(inner.substr(1, inner.size() - 2));
      } else {
        if (inner.empty()) return ParseError(pattern, i, "empty index");
        size_t v = 0;
        for (char d : inner) {
          if (d < '0' || d > '9')
            return ParseError(pattern, i, "index must be digits, * or \"key\"");
          v = v * 10 + static_cast<size_t>(d - '0');
        }
        seg.kind = PathSegment::Kind::kIndex;
        seg.index = v;
      }
      i = close + 1;
      need_segment = false;
    } else if (c == '.') {
      if (need_segment) return ParseError(pattern, i, "empty segment");
      need_segment = true;
      ++i;
      continue;
    } else {
      if (!need_segment) return ParseError(pattern, i, "expected '.' or '['");
      size_t start = i;
      while (i < pattern.size() && pattern[i] != '.' && pattern[i] != '[') ++i;
      std::string_view word = pattern.substr(start, i - start);
      if (word == "*") {
        seg.kind = PathSegment::Kind::kAnyOne;
      } else if (word == "**") {
        seg.kind = PathSegment::Kind::kAnyDepth;
      } else {
        for (size_t k = 0; k < word.size(); ++k) {
          if (!IsIdentChar(word[k])) {
            return ParseError(pattern, start + k, "use [\"...\"] for keys with this character");
          }
        }
        seg.kind = PathSegment::Kind::kKey;
        seg.key = std::string(word);
      }
      need_segment = false;
    }
    out.push_back(std::move(seg));
  }
  if (need_segment) return ParseError(pattern, pattern.size(), "trailing '.'");
  return out;
}

std::string FormatPath(const std::vector<PathSegment>& path) {
  std::string s;
  for (const PathSegment& seg : path) {
    switch (seg.kind) {
      case PathSegment::Kind::kIndex:
        s += "[" + std::to_string(seg.index) + "]";
        break;
      case PathSegment::Kind::kAnyOne:
        s += s.empty() ? "*" : ".*";
        break;
      case PathSegment::Kind::kAnyDepth:
        s += s.empty() ? "**" : ".**";
        break;
      case PathSegment::Kind::kKey:
        if (IsPlainKey(seg.key)) {
          if (!s.empty()) s += '.';
          s += seg.key;
        } else {
          s += "[" + json::serialize(json::string(seg.key)) + "]";
        }
        break;
    }
  }
  return s;
}

Result<JsonDiffer> JsonDiffer::Create(const std::vector<std::string>& ignore, Options options) {
  JsonDiffer d;
  d.options_ = options;
  for (size_t i = 0; i < ignore.size(); ++i) {
    auto parsed = ParsePathPattern(ignore[i]);
    if (!parsed) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "compare.ignore[" + std::to_string(i) + "]: " + parsed.error().message);
    }
    d.ignore_.push_back(std::move(*parsed));
  }
  return d;
}

bool JsonDiffer::IsIgnored(const std::vector<PathSegment>& path) const {
  for (const auto& pat : ignore_) {
    if (Covers(pat, 0, path, 0)) return true;
  }
  return false;
}

DiffResult JsonDiffer::Compare(const HttpAnswer& legacy, const HttpAnswer& modern) const {
  DiffResult out;
  // The usual case of a healthy migration: the same bytes. Equal whatever
  // the ignore list says, with no parse (the parse and walk of both bodies
  // were the largest part of a compare's CPU).
  if (legacy.status == modern.status && legacy.body == modern.body) return out;
  if (legacy.status != modern.status) {
    out.equal = false;
    out.diffs.push_back(
        FieldDiff{"status", std::to_string(legacy.status), std::to_string(modern.status)});
  }
  auto a = TryParse(legacy.body);
  auto b = a ? TryParse(modern.body) : std::nullopt;
  if (a && b) {
    out.compared_as_json = true;
    Walker(*this, options_, out).Walk(&*a, &*b);
    return out;
  }
  if (legacy.body != modern.body) {
    out.equal = false;
    auto cut = [&](std::string_view body) {
      std::string s(body.substr(0, options_.max_value_bytes));
      if (body.size() > options_.max_value_bytes) s += "...";
      return json::serialize(json::string(s));
    };
    out.diffs.push_back(FieldDiff{"body", cut(legacy.body), cut(modern.body)});
  }
  return out;
}

}  // namespace ficus::proxy
