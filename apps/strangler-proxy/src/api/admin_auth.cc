#include "api/admin_auth.h"

namespace ficus::proxy {

AuthResult Authorize(const std::string& token_file, std::optional<std::string_view> authorization) {
  return http::AuthorizeBearer(token_file, authorization, "admin.token_file",
                               "changes are disabled");
}

}  // namespace ficus::proxy
