#include "api/admin_autopilot.h"

#include <boost/json.hpp>

#include "api/admin_auth.h"
#include "service/json_text.h"

namespace ficus::proxy {
namespace {

namespace json = boost::json;

http::Response JsonResponse(unsigned status, const json::value& v) {
  auto r = http::Response::Json(status, JsonText(v));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response Fail(unsigned status, const std::string& msg) {
  json::object o{{"ret", status}, {"data", nullptr}, {"msg", msg}, {"error", msg}};
  return JsonResponse(status, o);
}

http::Response From(const Result<json::value>& r) {
  if (!r)
    return Fail(static_cast<unsigned>(http::HttpStatusFor(r.error().code)), r.error().message);
  return JsonResponse(200, *r);
}

}  // namespace

boost::asio::awaitable<std::optional<http::Response>> AdminAutopilot::Handle(http::Request& req) {
  const std::string path(req.Path());
  constexpr std::string_view kBase = "/admin/autopilot";
  if (!path.starts_with(kBase)) co_return std::nullopt;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == kBase) {
    if (!get) co_return Fail(405, "method: only GET is allowed");
    co_return JsonResponse(200, driver_.List());
  }
  if (path[kBase.size()] != '/') co_return std::nullopt;
  std::string rest = http::PercentDecode(std::string_view(path).substr(kBase.size() + 1));
  std::string action;
  if (const auto slash = rest.rfind('/'); slash != std::string::npos) {
    action = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (action.empty()) {
    if (!get) co_return Fail(405, "method: only GET is allowed");
    size_t limit = 200;
    if (auto l = req.QueryParam("timeline")) {
      char* end = nullptr;
      const long v = std::strtol(l->c_str(), &end, 10);
      if (l->empty() || *end != '\0' || v < 0 || v > 200) {
        co_return Fail(400, "timeline: must be an integer from 0 to 200");
      }
      limit = static_cast<size_t>(v);
    }
    co_return From(driver_.Get(rest, limit));
  }
  if (action != "start" && action != "pause" && action != "resume" && action != "abort") {
    co_return Fail(404,
                   "path: no such autopilot action '" + action + "' (start|pause|resume|abort)");
  }
  if (req.method != "POST") co_return Fail(405, "method: only POST is allowed");
  const AuthResult auth =
      Authorize(configured_()->admin_token_file, req.headers.Get("Authorization"));
  if (auth.kind != AuthResult::Kind::kOk) {
    auto r = Fail(auth.kind == AuthResult::Kind::kMissing ? 401 : 403, auth.message);
    if (auth.kind == AuthResult::Kind::kMissing) {
      r.headers.Set("WWW-Authenticate", "Bearer realm=\"ficus-admin\"");
    }
    co_return r;
  }
  if (action == "start") {
    std::optional<AutopilotPlan> plan;
    const bool blank = req.body.find_first_not_of(" \t\r\n") == std::string::npos;
    if (!blank) {
      boost::system::error_code ec;
      json::value body = json::parse(req.body, ec);
      if (ec) co_return Fail(400, "body: not valid JSON: " + ec.message());
      auto p = ParseAutopilotPlan(body, "");
      if (!p) co_return Fail(400, p.error().message);
      plan = std::move(*p);
    }
    co_return From(driver_.Begin(rest, plan, auth.token_name));
  }
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n{}") != std::string::npos) {
    co_return Fail(400, "body: " + action + " takes no body");
  }
  if (action == "pause") co_return From(driver_.Pause(rest, auth.token_name));
  if (action == "resume") co_return From(driver_.Resume(rest, auth.token_name));
  co_return From(driver_.Abort(rest, auth.token_name));
}

}  // namespace ficus::proxy
