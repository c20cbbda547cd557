// HttpModernStore: ModernStore over the profile writer's public HTTP API
// (POST /api/v2/profile/update with X-Ficus-Timestamp, GET
// /api/v2/profile/get), on one keep-alive HTTP/1.1 connection (Boost.Beast).
//
// Every request has a deadline (request_timeout_ms). Connection failures,
// timeouts, 500 and 503 are retried with exponential backoff (honouring
// Retry-After) until retry_deadline_ms has passed since the first attempt,
// then reported as Unavailable. Not thread-safe: one instance per worker.
#pragma once

#include <memory>

#include "model/modern_store.h"
#include "service/clock.h"
#include "service/url.h"

namespace ficus::migrator {

struct HttpStoreOptions {
  HttpUrl url;
  int request_timeout_ms = 10'000;
  int retry_deadline_ms = 30'000;
  std::string api_prefix = "/api/v2/profile";
};

std::unique_ptr<ModernStore> MakeHttpModernStore(const HttpStoreOptions& options, Clock& clock);

}  // namespace ficus::migrator
