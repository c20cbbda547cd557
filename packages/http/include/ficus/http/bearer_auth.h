// Bearer-token authentication against a token file, shared by every server
// that has privileged endpoints (the proxy's admin API, the writer's bulk
// endpoints).
//
// Token file: one token per line, `name:secret`, `name:secret:ROLE` (ROLE
// `read` or `operate`, returned in AuthResult::role for servers that have
// roles; others ignore it) or a bare `secret` (named token-<line number>); blank lines and lines
// starting with '#' are skipped; surrounding blanks are trimmed. The file is read on every check,
// so adding or revoking a token needs no restart. Authorize() outcomes: kOk with the token's name
// (for audit logs; the secret never is logged); kMissing (no/malformed `Authorization: Bearer ...`
// -> 401); kDenied (unknown token -> 403); kDisabled (no token file configured or unreadable ->
// 403, the endpoints are off). Secrets are compared in constant time. Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ficus::http {

struct BearerToken {
  std::string name;
  std::string secret;
  std::string role;  // "read", "operate" or "" (none given)
};

// Parses the file text. Lines without a secret are skipped.
std::vector<BearerToken> ParseTokenFile(std::string_view text);

struct AuthResult {
  enum class Kind { kOk, kMissing, kDenied, kDisabled };
  Kind kind = Kind::kMissing;
  std::string token_name;  // kOk
  std::string role;        // kOk: the token's role ("" = none given)
  std::string message;     // otherwise: why, for the response
};

// `authorization`: the Authorization header value, if any. `setting` names
// the option that configures the token file, for the kDisabled messages
// (e.g. "admin.token_file", "--bulk-token-file"); `consequence` ends them
// ("changes are disabled").
AuthResult AuthorizeBearer(const std::string& token_file,
                           std::optional<std::string_view> authorization, std::string_view setting,
                           std::string_view consequence);

}  // namespace ficus::http
