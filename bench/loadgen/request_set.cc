#include "request_set.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <random>
#include <string_view>

#include "ficus/http/message.h"

namespace ficus::bench {
namespace {

constexpr std::array<std::string_view, 16> kKeys = {
    "plan",       "locale", "nickname", "theme",  "timezone", "country", "avatar",   "bio",
    "newsletter", "lang",   "currency", "status", "level",    "badge",   "referrer", "device"};

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127 ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
            std::string_view::npos) {
      return false;
    }
  }
  return true;
}

struct Expander {
  const RequestSpec& spec;
  std::mt19937_64 rng;
  std::uint64_t next_user = 0;
  std::uint64_t user = 0;  // chosen once per request, shared by path and body

  void PickUser() {
    if (spec.sequential) {
      next_user = next_user % spec.users + 1;
      user = next_user;
    } else {
      user = std::uniform_int_distribution<std::uint64_t>(1, spec.users)(rng);
    }
  }

  // Appends `tmpl` with its placeholders expanded; `field` names it in errors.
  Status Expand(std::string_view tmpl, std::string_view field, std::string& out) {
    std::size_t i = 0;
    while (i < tmpl.size()) {
      const std::size_t open = tmpl.find('{', i);
      if (open == std::string_view::npos) {
        out.append(tmpl.substr(i));
        break;
      }
      out.append(tmpl.substr(i, open - i));
      const std::size_t close = tmpl.find('}', open);
      const std::string_view name = close == std::string_view::npos
                                        ? std::string_view()
                                        : tmpl.substr(open + 1, close - open - 1);
      if (name == "user") {
        out += UserId(user);
      } else if (name == "rand") {
        out += std::to_string(std::uniform_int_distribution<int>(0, 999'999)(rng));
      } else if (name.starts_with("attrs:")) {
        unsigned n = 0;
        const auto digits = name.substr(6);
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || p != digits.data() + digits.size() || n < 1 || n > kKeys.size()) {
          return MakeError(
              ErrorCode::kInvalidArgument,
              std::string(field) + ": {attrs:N} needs N in 1..16, got {" + std::string(name) + "}");
        }
        std::array<std::size_t, kKeys.size()> idx{};
        for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
        for (unsigned k = 0; k < n; ++k) {  // partial Fisher-Yates
          const auto j = std::uniform_int_distribution<std::size_t>(k, idx.size() - 1)(rng);
          std::swap(idx[k], idx[j]);
          if (k) out += ',';
          out += '"';
          out += kKeys[idx[k]];
          out += "\":\"v";
          out += std::to_string(std::uniform_int_distribution<int>(0, 999'999)(rng));
          out += '"';
        }
      } else if (close != std::string_view::npos && name.empty() == false &&
                 name.find_first_of("\"{") == std::string_view::npos &&
                 name.find(':') == std::string_view::npos) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string(field) + ": unknown placeholder {" + std::string(name) +
                             "} (known: {user}, {rand}, {attrs:N})");
      } else {
        out += '{';  // JSON braces and the like are literal text
        i = open + 1;
        continue;
      }
      i = close + 1;
    }
    return {};
  }
};

}  // namespace

std::string UserId(std::uint64_t i) {
  char buf[40];
  const std::uint64_t tail = (i * 2654435761ull) % 281474976710656ull;
  std::snprintf(buf, sizeof buf, "%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(i), static_cast<unsigned long long>(tail));
  return buf;
}

Result<std::vector<std::string>> BuildRequests(const RequestSpec& spec) {
  auto bad = [](std::string msg) { return MakeError(ErrorCode::kInvalidArgument, std::move(msg)); };
  if (!IsToken(spec.method)) return bad("--method: not an HTTP token: '" + spec.method + "'");
  if (!spec.path.starts_with('/') || http::ContainsCrLf(spec.path) ||
      spec.path.find(' ') != std::string::npos) {
    return bad("--path: must start with '/' and hold no space, CR or LF: '" + spec.path + "'");
  }
  if (spec.count == 0) return bad("--pregen: must be at least 1");
  if (spec.users == 0) return bad("--users: must be at least 1");
  if (!spec.body_template.empty() && !spec.body_lines.empty()) {
    return bad("--body and --body-file: give one of them");
  }
  http::Headers extra;
  for (const auto& h : spec.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || !IsToken(std::string_view(h).substr(0, colon)) ||
        !http::IsFieldValueText(h)) {
      return bad("--header: expected 'Name: value' without CR/LF, got '" + h + "'");
    }
    std::string_view value = std::string_view(h).substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    extra.Add(std::string_view(h).substr(0, colon), value);
  }

  Expander ex{spec, std::mt19937_64(spec.seed)};
  std::vector<std::string> out;
  out.reserve(spec.count);
  std::string path, body;
  for (std::size_t n = 0; n < spec.count; ++n) {
    ex.PickUser();
    path.clear();
    if (auto s = ex.Expand(spec.path, "--path", path); !s) return tl::unexpected(s.error());
    body.clear();
    bool has_body = false;
    if (!spec.body_template.empty()) {
      has_body = true;
      if (auto s = ex.Expand(spec.body_template, "--body", body); !s) {
        return tl::unexpected(s.error());
      }
    } else if (!spec.body_lines.empty()) {
      has_body = true;
      const std::string& line = spec.body_lines[n % spec.body_lines.size()];
      if (auto s = ex.Expand(
              line, "--body-file line " + std::to_string(n % spec.body_lines.size() + 1), body);
          !s) {
        return tl::unexpected(s.error());
      }
    }
    std::string req;
    req.reserve(128 + path.size() + body.size());
    req += spec.method;
    req += ' ';
    req += path;
    req += " HTTP/1.1\r\nHost: ";
    req += spec.host;
    req += "\r\n";
    for (const auto f : extra) {
      req += f.name;
      req += ": ";
      req += f.value;
      req += "\r\n";
    }
    if (has_body) {
      req += "Content-Length: ";
      req += std::to_string(body.size());
      req += "\r\n";
    }
    req += "\r\n";
    req += body;
    out.push_back(std::move(req));
  }
  return out;
}

}  // namespace ficus::bench
