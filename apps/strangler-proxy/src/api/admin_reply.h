// The answers of the admin listener, in one place: every admin endpoint
// (AdminApi's built-ins, AdminRoutes, AdminAutopilot) answers through these.
//
// One error shape on the whole listener, the envelope of the rest of the
// system (http::Response::Error, also what the http::Server itself sends for
// a request it rejects):
//   {"ret":<status>,"data":null,"msg":"<message naming the field or reason>"}
// JSON answers carry Cache-Control: no-store; a 503 carries Retry-After: 5; a
// 401 WWW-Authenticate: Bearer; a 405 Allow. An Error maps to its status
// through http::HttpStatusFor (the one mapping from error code to status).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/admin_auth.h"
#include "ficus/http/message.h"
#include "ficus/result.h"

namespace ficus::proxy {

http::Response AdminJson(unsigned status, const boost::json::value& v);
http::Response AdminError(unsigned status, std::string_view msg);
http::Response AdminError(const Error& e);
// 200 with the value, or the error.
http::Response AdminResult(const Result<boost::json::value>& r);
// 405 naming the methods allowed ("GET", "GET, PUT").
http::Response MethodNotAllowed(std::string_view allow);

// Authorization of an admin request: the token's name, or the 401/403 answer
// to send instead.
struct AdminCaller {
  std::string actor;
  std::optional<http::Response> denied;
};
AdminCaller AuthorizeAdmin(const std::string& token_file, const http::Request& req,
                           AdminRole need = AdminRole::kOperate);

}  // namespace ficus::proxy
