// Admin authentication: bearer tokens from admin.token_file, through the
// shared ficus::http bearer check (packages/http/.../bearer_auth.h has the
// token file format and the outcomes: kOk, kMissing -> 401, kDenied -> 403,
// kDisabled -> 403, changes are off).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ficus/http/bearer_auth.h"

namespace ficus::proxy {

using AdminToken = http::BearerToken;
using AuthResult = http::AuthResult;
using http::ParseTokenFile;

// `authorization`: the Authorization header value, if any.
AuthResult Authorize(const std::string& token_file, std::optional<std::string_view> authorization);

}  // namespace ficus::proxy
