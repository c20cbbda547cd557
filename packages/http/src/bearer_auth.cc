#include "ficus/http/bearer_auth.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ficus::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace

std::vector<BearerToken> ParseTokenFile(std::string_view text) {
  std::vector<BearerToken> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    BearerToken t;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      t.name = "token-" + std::to_string(line_no);
      t.secret = std::string(line);
    } else {
      t.name = std::string(Trim(line.substr(0, colon)));
      std::string_view secret = Trim(line.substr(colon + 1));
      const auto last = secret.rfind(':');
      if (last != std::string_view::npos) {
        const std::string_view role = Trim(secret.substr(last + 1));
        if (role == "read" || role == "operate") {
          t.role = std::string(role);
          secret = Trim(secret.substr(0, last));
        }
      }
      t.secret = std::string(secret);
      if (t.name.empty()) t.name = "token-" + std::to_string(line_no);
    }
    if (!t.secret.empty()) out.push_back(std::move(t));
  }
  return out;
}

AuthResult AuthorizeBearer(const std::string& token_file,
                           std::optional<std::string_view> authorization, std::string_view setting,
                           std::string_view consequence) {
  AuthResult r;
  if (token_file.empty()) {
    r.kind = AuthResult::Kind::kDisabled;
    r.message = std::string(setting) + " is not configured: " + std::string(consequence);
    return r;
  }
  std::ifstream in(token_file, std::ios::binary);
  if (!in) {
    r.kind = AuthResult::Kind::kDisabled;
    r.message =
        std::string(setting) + " " + token_file + " cannot be read: " + std::string(consequence);
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const auto tokens = ParseTokenFile(ss.str());
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || authorization->size() <= kBearer.size() ||
      authorization->substr(0, kBearer.size()) != kBearer) {
    r.kind = AuthResult::Kind::kMissing;
    r.message = "authorization: a bearer token is required (Authorization: Bearer <token>)";
    return r;
  }
  const std::string_view given = Trim(authorization->substr(kBearer.size()));
  const BearerToken* match = nullptr;
  for (const auto& t : tokens) {
    if (ConstantTimeEquals(t.secret, given)) match = &t;
  }
  if (!match) {
    r.kind = AuthResult::Kind::kDenied;
    r.message = "authorization: token not accepted";
    return r;
  }
  r.kind = AuthResult::Kind::kOk;
  r.token_name = match->name;
  r.role = match->role;
  return r;
}

}  // namespace ficus::http
