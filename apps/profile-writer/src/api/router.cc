#include "api/router.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <utility>

#include "api/envelope.h"
#include "api/status_map.h"
#include "api/update_request.h"
#include "domain/validation.h"
#include "service/logging.h"

namespace ficus::writer::api {
namespace {

constexpr const char* kRouteNames[] = {"update", "get", "healthz", "readyz", "metrics", "none"};

http::Response ErrorResponse(int status, std::string_view msg) {
  http::Response r = http::Response::Json(static_cast<unsigned>(status), ErrorBody(status, msg));
  if (status == 503) r.headers.Set("Retry-After", "1");
  return r;
}

http::Response MethodNotAllowed(std::string_view allow) {
  http::Response r = ErrorResponse(405, allow == "POST" ? msg::kMethodPost : msg::kMethodGet);
  r.headers.Set("Allow", allow);
  return r;
}

}  // namespace

Router::Router(ProfileService& service, MetricsRegistry& metrics)
    : service_(service), metrics_(metrics) {
  for (int r = 0; r < kRouteCount; ++r) {
    std::string route = std::string("route=\"") + kRouteNames[r] + "\"";
    for (int s = 0; s <= kStatusCount; ++s) {
      std::string labels = route;
      labels += ",status=\"";
      labels += s < kStatusCount ? std::to_string(kStatuses[s]) : "other";
      labels += "\"";
      requests_[r][s] =
          &metrics_.AddCounter("writer_http_requests_total",
                               "HTTP requests answered, by route and status.", std::move(labels));
    }
  }
  for (int r = 0; r < kRouteCount; ++r) {
    latency_[r] =
        &metrics_.AddHistogram("writer_http_request_duration_seconds",
                               "Time from the complete request to the response, by route.",
                               LatencyBuckets(), std::string("route=\"") + kRouteNames[r] + "\"");
  }
  in_flight_ =
      &metrics_.AddGauge("writer_http_requests_in_flight",
                         "Requests being handled (updates waiting for the WAL sync included).");
}

Router::Route Router::RouteOf(std::string_view path) {
  if (path == "/api/v2/profile/update") return kUpdate;
  if (path == "/api/v2/profile/get") return kGet;
  if (path == "/healthz") return kHealthz;
  if (path == "/readyz") return kReadyz;
  if (path == "/metrics") return kMetrics;
  return kNoRoute;
}

http::Response Router::Finish(Route route, http::Response response, double seconds) {
  int idx = kStatusCount;
  for (int s = 0; s < kStatusCount; ++s) {
    if (kStatuses[s] == static_cast<int>(response.status)) idx = s;
  }
  requests_[route][idx]->Inc();
  latency_[route]->Observe(seconds);
  return response;
}

std::optional<http::Response> Router::HeadCheck(const http::Request& request) {
  Route route = RouteOf(request.Path());
  std::optional<http::Response> answer;
  if (route == kNoRoute) {
    answer = ErrorResponse(404, msg::kNoEndpoint);
  } else if (route == kUpdate) {
    if (request.method != "POST") answer = MethodNotAllowed("POST");
  } else if (request.method != "GET") {
    answer = MethodNotAllowed("GET");
  }
  if (!answer) return std::nullopt;
  return Finish(route, std::move(*answer), 0);
}

boost::asio::awaitable<http::Response> Router::Handle(http::Request& request) {
  auto start = std::chrono::steady_clock::now();
  Route route = RouteOf(request.Path());
  // HeadCheck already answered wrong paths and methods; this is a safety net
  // for servers wired without it.
  if (auto early = HeadCheck(request)) co_return std::move(*early);
  in_flight_->Add(1);
  http::Response response;
  switch (route) {
    case kUpdate:
      response = co_await Update(request);
      break;
    case kGet:
      response = Get(request);
      break;
    case kHealthz:
      response = http::Response::Json(200, OkBody(R"({"status":"ok"})"));
      break;
    case kReadyz:
      response = (!draining_.load() && service_.Ready())
                     ? http::Response::Json(200, OkBody(R"({"status":"ready"})"))
                     : ErrorResponse(503, "readyz: not ready");
      break;
    case kMetrics:
      response =
          http::Response::Text(200, metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
      break;
    default:
      response = ErrorResponse(404, msg::kNoEndpoint);
  }
  in_flight_->Add(-1);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_return Finish(route, std::move(response), secs);
}

http::Response Router::UpdateError(const Error& error) {
  int status = HttpStatusFor(error.code);
  if (status == 500) GetLogger("writer.api")->error("update failed: {}", error.message);
  return ErrorResponse(status, error.message);
}

boost::asio::awaitable<http::Response> Router::Update(http::Request& request) {
  UpdateHeaders headers{request.Header("Content-Type"), request.Header("Idempotency-Key"),
                        request.Header("X-Ficus-Timestamp")};
  auto command = ParseUpdateRequest(headers, request.body);
  if (!command) co_return UpdateError(command.error());
  Uuid user = command->update.user;
  // Resume on this loop when the store's writer thread completes the update.
  // The store calls `done` exactly once, so the handler is always resumed.
  // The initiation is a named object, not a temporary inside the co_await
  // expression: GCC 12 destroys such temporaries twice (the bug that made
  // http::Completion report "completion abandoned", fixed there too).
  auto executor = co_await boost::asio::this_coro::executor;
  auto initiate = [this, executor, &command](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    service_.Update(std::move(*command), [shared, executor](Result<Profile> r) {
      boost::asio::post(
          executor, [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
    });
  };
  Result<Profile> result =
      co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                           void(Result<Profile>)>(initiate,
                                                                  boost::asio::use_awaitable);
  if (!result) co_return UpdateError(result.error());
  co_return http::Response::Json(200, OkProfileBody(user, *result));
}

http::Response Router::Get(const http::Request& request) {
  auto user = ParseGetQuery(request.Query());
  if (!user) return UpdateError(user.error());
  auto profile = service_.Get(*user);
  if (!profile) return UpdateError(profile.error());
  return http::Response::Json(200, OkProfileBody(*user, *profile));
}

}  // namespace ficus::writer::api
