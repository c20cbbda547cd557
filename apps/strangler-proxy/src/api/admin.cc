#include "api/admin.h"

namespace ficus::proxy {

boost::asio::awaitable<http::Response> AdminApi::Handle(http::Request& req) {
  for (auto& h : handlers_) {
    if (auto r = co_await h(req)) co_return std::move(*r);
  }
  const auto path = req.Path();
  if (path == "/metrics" || path == "/healthz" || path == "/readyz") {
    if (req.method != "GET" && req.method != "HEAD") {
      auto r = http::Response::Error(405, "method: only GET is allowed");
      r.headers.Set("Allow", "GET");
      co_return r;
    }
  }
  if (path == "/metrics") {
    co_return http::Response::Text(200, metrics_.Render(),
                                   "text/plain; version=0.0.4; charset=utf-8");
  }
  if (path == "/healthz") {
    auto rt = proxy_.runtime();
    std::string body = "{\"ret\":";
    const bool draining = proxy_.draining();
    body += draining ? "503" : "200";
    body += ",\"data\":{\"status\":\"";
    body += draining ? "draining" : "ok";
    body += "\",\"generation\":" + std::to_string(rt->generation) + ",\"backends\":{";
    bool first = true;
    for (const auto& [name, b] : rt->backends) {
      if (!first) body += ",";
      first = false;
      body += "\"" + name + "\":\"" + (b.state->up.load() ? "up" : "down") + "\"";
    }
    body += "}},\"msg\":\"\"}";
    co_return http::Response::Json(draining ? 503 : 200, std::move(body));
  }
  if (path == "/readyz") {
    std::optional<std::string> why;
    if (proxy_.draining()) why = "draining";
    for (auto& c : readiness_) {
      if (!why) why = c();
    }
    std::string body = why ? "{\"ret\":503,\"data\":{\"status\":\"not ready\"},\"msg\":\""
                           : "{\"ret\":200,\"data\":{\"status\":\"ready\"},\"msg\":\"";
    if (why) http::AppendJsonEscaped(body, *why);
    body += "\"}";
    co_return http::Response::Json(why ? 503 : 200, std::move(body));
  }
  co_return http::Response::Error(404, "path: no such admin endpoint");
}

}  // namespace ficus::proxy
