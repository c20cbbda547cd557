// Router: the writer's HTTP endpoints on ficus::http::Server.
//
//   POST /api/v2/profile/update   ProfileService::Update (group-committed, durable)
//   GET  /api/v2/profile/get      ProfileService::Get (served on the loop thread)
//   GET  /healthz                 process is up
//   GET  /readyz                  store accepting writes and not draining
//   GET  /metrics                 Prometheus text
//   POST /internal/profile/import ProfileService::Import: bulk timestamped
//                                 updates (NDJSON), one group commit
//   POST /internal/profile/get    many users' profiles (one id per line)
// The two /internal endpoints (CONTRACT.md "Bulk endpoints") need
// `Authorization: Bearer <token>` from RouterOptions::bulk_token_file
// (ficus/http/bearer_auth.h; 401 without, 403 wrong or not configured) and
// refuse requests that came through a proxy (Forwarded / X-Forwarded-For:
// 403); their bodies may be up to bulk_max_body_bytes, every other route's
// 65536. HeadCheck answers all of that before the body is read (413 from
// Content-Length); a chunked body of another route is streamed and cut
// off at 65536 (413).
//
// HeadCheck runs before the body is read (wired as ServerOptions::head_check)
// and answers 404 for unknown paths and 405 for wrong methods, so those win
// over 413 as the contract's check order wants. The HTTP layer's
// ParserLimits::max_body_bytes must be BodyLimit() (the largest route's).
// Handle runs the remaining checks through ParseUpdateRequest/ParseGetQuery,
// calls the domain, and maps errors through http::HttpStatusFor (ficus/http/message.h),
// the one code -> status function.
//
// Threads: HeadCheck and Handle run on a server loop thread; an update
// suspends on a Completion and resumes on the same loop when the store's
// writer thread completes it. The router must outlive the server.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "domain/bulk_import.h"
#include "domain/profile_service.h"
#include "ficus/http/message.h"
#include "ficus/metrics.h"

namespace ficus::writer::api {

struct RouterOptions {
  std::string bulk_token_file;  // empty: the bulk endpoints answer 403
  std::size_t bulk_max_body_bytes = kMaxBulkBodyBytes;
  bool bulk_endpoints = true;  // false: they answer 404 (a writer without them)
  std::size_t max_import_records = kMaxImportRecords;
  std::size_t max_read_ids = kMaxReadIds;
};

class Router {
 public:
  Router(ProfileService& service, MetricsRegistry& metrics, RouterOptions options = {});

  std::optional<http::Response> HeadCheck(const http::Request& request);
  // ServerOptions::stream_body: a chunked body of a non-bulk route.
  bool StreamBody(const http::Request& request) const;
  // The HTTP layer's body limit this router needs.
  std::size_t BodyLimit() const;
  boost::asio::awaitable<http::Response> Handle(http::Request& request);

  // /readyz answers 503 from now on (called when draining starts).
  void SetDraining() { draining_.store(true); }

 private:
  enum Route {
    kUpdate,
    kGet,
    kHealthz,
    kReadyz,
    kMetrics,
    kImport,
    kBulkGet,
    kNoRoute,
    kRouteCount
  };
  static Route RouteOf(std::string_view path);
  http::Response Finish(Route route, http::Response response, double seconds);
  http::Response UpdateError(const Error& error);
  boost::asio::awaitable<http::Response> Update(http::Request& request);
  http::Response Get(const http::Request& request);
  boost::asio::awaitable<http::Response> Import(http::Request& request);
  http::Response BulkGet(const http::Request& request);
  std::optional<http::Response> BulkHeadCheck(const http::Request& request);

  ProfileService& service_;
  MetricsRegistry& metrics_;
  RouterOptions options_;
  Counter* import_applied_ = nullptr;
  Counter* import_rejected_ = nullptr;
  std::atomic<bool> draining_{false};
  // requests by route and status: [route][status index]
  static constexpr int kStatuses[] = {200, 400, 401, 403, 404, 405, 409, 413, 415, 422, 500, 503};
  static constexpr int kStatusCount = sizeof(kStatuses) / sizeof(kStatuses[0]);
  Counter* requests_[kRouteCount][kStatusCount + 1] = {};  // last: any other status
  Histogram* latency_[kRouteCount] = {};
  Gauge* in_flight_ = nullptr;
};

}  // namespace ficus::writer::api
