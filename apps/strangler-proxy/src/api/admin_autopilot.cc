#include "api/admin_autopilot.h"

#include <boost/json.hpp>

#include "api/admin_reply.h"

namespace ficus::proxy {
namespace json = boost::json;

boost::asio::awaitable<std::optional<http::Response>> AdminAutopilot::Handle(http::Request& req) {
  const std::string path(req.Path());
  constexpr std::string_view kBase = "/admin/autopilot";
  if (!path.starts_with(kBase)) co_return std::nullopt;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == kBase) {
    if (!get) co_return MethodNotAllowed("GET");
    co_return AdminJson(200, driver_.List());
  }
  if (path[kBase.size()] != '/') co_return std::nullopt;
  std::string rest = http::PercentDecode(std::string_view(path).substr(kBase.size() + 1));
  std::string action;
  if (const auto slash = rest.rfind('/'); slash != std::string::npos) {
    action = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (action.empty()) {
    if (!get) co_return MethodNotAllowed("GET");
    size_t limit = 200;
    if (auto l = req.QueryParam("timeline")) {
      char* end = nullptr;
      const long v = std::strtol(l->c_str(), &end, 10);
      if (l->empty() || *end != '\0' || v < 0 || v > 200) {
        co_return AdminError(400, "timeline: must be an integer from 0 to 200");
      }
      limit = static_cast<size_t>(v);
    }
    co_return AdminResult(driver_.Get(rest, limit));
  }
  if (action != "start" && action != "pause" && action != "resume" && action != "abort") {
    co_return AdminError(
        404, "path: no such autopilot action '" + action + "' (start|pause|resume|abort)");
  }
  if (req.method != "POST") co_return MethodNotAllowed("POST");
  auto caller = AuthorizeAdmin(configured_()->admin_token_file, req);
  if (caller.denied) co_return std::move(*caller.denied);
  const std::string& actor = caller.actor;
  if (action == "start") {
    std::optional<AutopilotPlan> plan;
    const bool blank = req.body.find_first_not_of(" \t\r\n") == std::string::npos;
    if (!blank) {
      boost::system::error_code ec;
      json::value body = json::parse(req.body, ec);
      if (ec) co_return AdminError(400, "body: not valid JSON: " + ec.message());
      auto p = ParseAutopilotPlan(body, "");
      if (!p) co_return AdminError(p.error());
      plan = std::move(*p);
    }
    co_return AdminResult(driver_.Begin(rest, plan, actor));
  }
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n{}") != std::string::npos) {
    co_return AdminError(400, "body: " + action + " takes no body");
  }
  if (action == "pause") co_return AdminResult(driver_.Pause(rest, actor));
  if (action == "resume") co_return AdminResult(driver_.Resume(rest, actor));
  co_return AdminResult(driver_.Abort(rest, actor));
}

}  // namespace ficus::proxy
