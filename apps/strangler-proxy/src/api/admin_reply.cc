#include "api/admin_reply.h"

#include "service/json_text.h"

namespace ficus::proxy {

http::Response AdminJson(unsigned status, const boost::json::value& v) {
  auto r = http::Response::Json(status, JsonText(v));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response AdminError(unsigned status, std::string_view msg) {
  auto r = http::Response::Error(status, msg);
  r.headers.Set("Cache-Control", "no-store");
  if (status == 503) r.headers.Set("Retry-After", "5");
  return r;
}

http::Response AdminError(const Error& e) {
  return AdminError(static_cast<unsigned>(http::HttpStatusFor(e.code)), e.message);
}

http::Response AdminResult(const Result<boost::json::value>& r) {
  return r ? AdminJson(200, *r) : AdminError(r.error());
}

http::Response MethodNotAllowed(std::string_view allow) {
  std::string msg = "method: only ";
  for (char c : allow) msg += c == ',' ? std::string(" and") : std::string(1, c);
  msg += " ";
  msg += allow.find(',') == std::string_view::npos ? "is" : "are";
  msg += " allowed";
  auto r = AdminError(405, msg);
  r.headers.Set("Allow", std::string(allow));
  return r;
}

AdminCaller AuthorizeAdmin(const std::string& token_file, const http::Request& req,
                           AdminRole need) {
  const AuthResult auth = Authorize(token_file, req.headers.Get("Authorization"), need);
  if (auth.kind == AuthResult::Kind::kOk) return {auth.token_name, std::nullopt};
  const bool missing = auth.kind == AuthResult::Kind::kMissing;
  auto r = AdminError(missing ? 401 : 403, auth.message);
  if (missing) r.headers.Set("WWW-Authenticate", "Bearer realm=\"ficus-admin\"");
  return {"", std::move(r)};
}

}  // namespace ficus::proxy
