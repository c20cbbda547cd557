#include "api/router.h"

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <utility>

#include "api/bulk_request.h"
#include "api/bulk_response.h"
#include "api/envelope.h"
#include "api/update_request.h"
#include "domain/validation.h"
#include "ficus/clock.h"
#include "ficus/http/bearer_auth.h"
#include "ficus/http/body_stream.h"
#include "service/logging.h"

namespace ficus::writer::api {
namespace {

constexpr const char* kRouteNames[] = {"update",  "get",    "healthz",  "readyz",
                                       "metrics", "import", "bulk_get", "none"};

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

Router::Router(ProfileService& service, MetricsRegistry& metrics, RouterOptions options)
    : service_(service), metrics_(metrics), options_(std::move(options)) {
  // The router's metrics, all of them here.
  constexpr const char* kImport = "ficus_writer_bulk_import_records_total";
  constexpr const char* kImportHelp = "Bulk import records, by result.";
  import_applied_ = &metrics_.GetCounter(kImport, kImportHelp, {{"result", "applied"}});
  import_rejected_ = &metrics_.GetCounter(kImport, kImportHelp, {{"result", "rejected"}});
  for (int r = 0; r < kRouteCount; ++r) {
    for (int s = 0; s <= kStatusCount; ++s) {
      const std::string status = s < kStatusCount ? std::to_string(kStatuses[s]) : "other";
      requests_[r][s] = &metrics_.GetCounter("ficus_writer_http_requests_total",
                                             "HTTP requests answered, by route and status.",
                                             {{"route", kRouteNames[r]}, {"status", status}});
    }
    latency_[r] = &metrics_.GetHistogram(
        "ficus_writer_http_request_duration_seconds",
        "Time from the complete request to the response, by route.", {{"route", kRouteNames[r]}});
  }
  in_flight_ =
      &metrics_.GetGauge("ficus_writer_http_requests_in_flight",
                         "Requests being handled (updates waiting for the WAL sync included).");
}

Router::Route Router::RouteOf(std::string_view path) {
  if (path == "/api/v2/profile/update") return kUpdate;
  if (path == "/api/v2/profile/get") return kGet;
  if (path == "/healthz") return kHealthz;
  if (path == "/readyz") return kReadyz;
  if (path == "/metrics") return kMetrics;
  if (path == "/internal/profile/import") return kImport;
  if (path == "/internal/profile/get") return kBulkGet;
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

std::size_t Router::BodyLimit() const {
  return std::max(kMaxBodyBytes, options_.bulk_max_body_bytes);
}

bool Router::StreamBody(const http::Request& request) const {
  Route route = RouteOf(request.Path());
  return route != kImport && route != kBulkGet && !request.Header("Content-Length");
}

// Declared length over `limit`: 413 before the body is read.
static std::optional<http::Response> TooLarge(const http::Request& request, std::size_t limit) {
  auto cl = request.Header("Content-Length");
  if (!cl) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : *cl) {
    if (c < '0' || c > '9' || n > (std::uint64_t{1} << 60))
      return std::nullopt;  // the parser's job
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n <= limit) return std::nullopt;
  return ErrorResponse(413, "body: larger than " + std::to_string(limit) + " bytes");
}

std::optional<http::Response> Router::BulkHeadCheck(const http::Request& request) {
  if (request.method != "POST") return MethodNotAllowed("POST");
  // Never through the proxy: it adds these to everything it forwards.
  if (request.Header("Forwarded") || request.Header("X-Forwarded-For")) {
    return ErrorResponse(
        403, "bulk: not accepted through a proxy (Forwarded or X-Forwarded-For present)");
  }
  auto auth = http::AuthorizeBearer(options_.bulk_token_file, request.Header("Authorization"),
                                    "--bulk-token-file", "bulk endpoints are disabled");
  switch (auth.kind) {
    case http::AuthResult::Kind::kOk:
      break;
    case http::AuthResult::Kind::kMissing: {
      http::Response r = ErrorResponse(401, auth.message);
      r.headers.Set("WWW-Authenticate", "Bearer");
      return r;
    }
    default:
      return ErrorResponse(403, auth.message);
  }
  return TooLarge(request, options_.bulk_max_body_bytes);
}

std::optional<http::Response> Router::HeadCheck(const http::Request& request) {
  Route route = RouteOf(request.Path());
  if ((route == kImport || route == kBulkGet) && !options_.bulk_endpoints) route = kNoRoute;
  std::optional<http::Response> answer;
  if (route == kNoRoute) {
    answer = ErrorResponse(404, msg::kNoEndpoint);
  } else if (route == kImport || route == kBulkGet) {
    answer = BulkHeadCheck(request);
  } else if (route == kUpdate) {
    if (request.method != "POST") answer = MethodNotAllowed("POST");
  } else if (request.method != "GET") {
    answer = MethodNotAllowed("GET");
  }
  if (!answer && route != kImport && route != kBulkGet) answer = TooLarge(request, kMaxBodyBytes);
  if (!answer) return std::nullopt;
  return Finish(route, std::move(*answer), 0);
}

boost::asio::awaitable<http::Response> Router::Handle(http::Request& request) {
  const Stopwatch watch;
  Route route = RouteOf(request.Path());
  // HeadCheck already answered wrong paths and methods; this is a safety net
  // for servers wired without it.
  if (auto early = HeadCheck(request)) co_return std::move(*early);
  if (request.body_stream != nullptr) {
    // A chunked body of a non-bulk route (StreamBody): at most 65536 bytes.
    for (;;) {
      Result<std::string_view> piece = co_await request.body_stream->Read();
      if (!piece) co_return ErrorResponse(400, "body: unreadable");  // the server answers itself
      if (piece->empty()) break;
      if (request.body.size() + piece->size() > kMaxBodyBytes) {
        co_return Finish(route, ErrorResponse(413, msg::kBodyTooLarge), 0);
      }
      request.body.append(piece->data(), piece->size());
    }
  }
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
    case kImport:
      response = co_await Import(request);
      break;
    case kBulkGet:
      response = BulkGet(request);
      break;
    case kMetrics:
      response =
          http::Response::Text(200, metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
      break;
    default:
      response = ErrorResponse(404, msg::kNoEndpoint);
  }
  in_flight_->Add(-1);
  co_return Finish(route, std::move(response), watch.ElapsedSeconds());
}

http::Response Router::UpdateError(const Error& error) {
  int status = http::HttpStatusFor(error.code);
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
  // expression: GCC 12 may destroy such temporaries twice.
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

namespace ficus::writer::api {

boost::asio::awaitable<http::Response> Router::Import(http::Request& request) {
  auto ct = request.Header("Content-Type");
  if (!ct || !IsMediaType(*ct, kImportContentType)) {
    co_return ErrorResponse(415, "Content-Type: must be application/x-ndjson");
  }
  bool atomic_user = false;
  if (auto atomic = request.QueryParam("atomic")) {
    if (*atomic == "user") {
      atomic_user = true;
    } else if (*atomic != "none") {
      co_return ErrorResponse(400, "atomic: must be user or none");
    }
  }
  auto records = ParseImportBody(request.body, options_.max_import_records);
  if (!records) co_return UpdateError(records.error());
  // As Update: resume on this loop when the store's writer thread is done;
  // the initiation is a named object (GCC 12, see Update).
  auto executor = co_await boost::asio::this_coro::executor;
  auto initiate = [this, executor, &records, atomic_user](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    service_.Import(std::move(*records), atomic_user,
                    [shared, executor](Result<std::vector<Status>> r) {
                      boost::asio::post(executor, [shared, r = std::move(r)]() mutable {
                        std::move (*shared)(std::move(r));
                      });
                    });
  };
  Result<std::vector<Status>> result =
      co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                           void(Result<std::vector<Status>>)>(
          initiate, boost::asio::use_awaitable);
  if (!result) co_return UpdateError(result.error());
  std::uint64_t applied = 0;
  for (const auto& s : *result) applied += s ? 1 : 0;
  import_applied_->Inc(applied);
  import_rejected_->Inc(result->size() - applied);
  co_return http::Response::Json(200, ImportResultsBody(*result));
}

http::Response Router::BulkGet(const http::Request& request) {
  auto ct = request.Header("Content-Type");
  if (!ct || !IsMediaType(*ct, kReadContentType)) {
    return ErrorResponse(415, "Content-Type: must be text/plain");
  }
  auto ids = ParseReadBody(request.body, options_.max_read_ids);
  if (!ids) return UpdateError(ids.error());
  std::vector<ReadItem> items;
  items.reserve(ids->size());
  for (auto& id : *ids) {
    ReadItem item{std::move(id), Profile{}};
    if (item.user) item.profile = service_.Get(*item.user);
    items.push_back(std::move(item));
  }
  return http::Response::Json(200, ReadResultsBody(items));
}

}  // namespace ficus::writer::api
