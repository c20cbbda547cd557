#include "api/admin_auth.h"

namespace ficus::proxy {

AuthResult Authorize(const std::string& token_file, std::optional<std::string_view> authorization,
                     AdminRole need) {
  AuthResult r = http::AuthorizeBearer(token_file, authorization, "admin.token_file",
                                       "changes and protected reads are disabled");
  if (r.kind == AuthResult::Kind::kOk && need == AdminRole::kOperate && r.role == "read") {
    r.kind = AuthResult::Kind::kDenied;
    r.message = "authorization: token '" + r.token_name + "' has role read; this needs operate";
  }
  return r;
}

}  // namespace ficus::proxy
