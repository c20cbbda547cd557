// Admin authentication: bearer tokens from the token file.
//
// Token file (admin.token_file): one token per line, `name:secret` or a bare
// `secret` (named token-<line number>); blank lines and lines starting with
// '#' are skipped; surrounding blanks are trimmed. The file is read on every
// check, so adding or revoking a token needs no restart.
// Authorize() outcomes: kOk with the token's name (logged in the audit log;
// the secret never is); kMissing (no/malformed `Authorization: Bearer ...`
// -> 401); kDenied (unknown token -> 403); kDisabled (no token file
// configured or unreadable -> 403, changes are off). Secrets are compared
// in constant time. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ficus::proxy {

struct AdminToken {
  std::string name;
  std::string secret;
};

// Parses the file text. Lines without a secret are skipped.
std::vector<AdminToken> ParseTokenFile(std::string_view text);

struct AuthResult {
  enum class Kind { kOk, kMissing, kDenied, kDisabled };
  Kind kind = Kind::kMissing;
  std::string token_name;  // kOk
  std::string message;     // otherwise: why, for the response
};

// `authorization`: the Authorization header value, if any.
AuthResult Authorize(const std::string& token_file, std::optional<std::string_view> authorization);

}  // namespace ficus::proxy
