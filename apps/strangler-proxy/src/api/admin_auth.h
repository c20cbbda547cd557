// Admin authentication: bearer tokens from admin.token_file, through the
// shared ficus::http bearer check (packages/http/.../bearer_auth.h has the
// token file format and the outcomes: kOk, kMissing -> 401, kDenied -> 403,
// kDisabled -> 403, changes are off).
//
// Roles: a token line `name:secret:read` may make data-bearing reads (such
// as /admin/mismatches); `name:secret:operate` reads and changes; a token
// without a role may operate (the format before roles). A read token asking
// for kOperate is kDenied with a message saying so.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ficus/http/bearer_auth.h"

namespace ficus::proxy {

using AdminToken = http::BearerToken;
using AuthResult = http::AuthResult;
using http::ParseTokenFile;

enum class AdminRole { kRead, kOperate };

// `authorization`: the Authorization header value, if any; `need`: the role
// the endpoint requires (kOperate for changes).
AuthResult Authorize(const std::string& token_file, std::optional<std::string_view> authorization,
                     AdminRole need = AdminRole::kOperate);

}  // namespace ficus::proxy
