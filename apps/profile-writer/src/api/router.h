// Router: the writer's HTTP endpoints on ficus::http::Server.
//
//   POST /api/v2/profile/update   ProfileService::Update (group-committed, durable)
//   GET  /api/v2/profile/get      ProfileService::Get (served on the loop thread)
//   GET  /healthz                 process is up
//   GET  /readyz                  store accepting writes and not draining
//   GET  /metrics                 Prometheus text
//
// HeadCheck runs before the body is read (wired as ServerOptions::head_check)
// and answers 404 for unknown paths and 405 for wrong methods, so those win
// over 413 as the contract's check order wants; the body limit itself
// (65536, check 2) is the HTTP layer's ParserLimits::max_body_bytes.
// Handle runs the remaining checks through ParseUpdateRequest/ParseGetQuery,
// calls the domain, and maps errors through HttpStatusFor (status_map.h),
// the one code -> status function.
//
// Threads: HeadCheck and Handle run on a server loop thread; an update
// suspends on a Completion and resumes on the same loop when the store's
// writer thread completes it. The router must outlive the server.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <optional>

#include "domain/profile_service.h"
#include "ficus/http/message.h"
#include "service/metrics.h"

namespace ficus::writer::api {

class Router {
 public:
  Router(ProfileService& service, MetricsRegistry& metrics);

  std::optional<http::Response> HeadCheck(const http::Request& request);
  boost::asio::awaitable<http::Response> Handle(http::Request& request);

  // /readyz answers 503 from now on (called when draining starts).
  void SetDraining() { draining_.store(true); }

 private:
  enum Route { kUpdate, kGet, kHealthz, kReadyz, kMetrics, kNoRoute, kRouteCount };
  static Route RouteOf(std::string_view path);
  http::Response Finish(Route route, http::Response response, double seconds);
  http::Response UpdateError(const Error& error);
  boost::asio::awaitable<http::Response> Update(http::Request& request);
  http::Response Get(const http::Request& request);

  ProfileService& service_;
  MetricsRegistry& metrics_;
  std::atomic<bool> draining_{false};
  // requests by route and status: [route][status index]
  static constexpr int kStatuses[] = {200, 400, 404, 405, 409, 413, 415, 422, 500, 503};
  static constexpr int kStatusCount = sizeof(kStatuses) / sizeof(kStatuses[0]);
  Counter* requests_[kRouteCount][kStatusCount + 1] = {};  // last: any other status
  Histogram* latency_[kRouteCount] = {};
  Gauge* in_flight_ = nullptr;
};

}  // namespace ficus::writer::api
