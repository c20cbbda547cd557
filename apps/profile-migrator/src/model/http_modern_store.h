// HttpModernStore: ModernStore over the profile writer's HTTP API
// (POST /api/v2/profile/update with X-Ficus-Timestamp, GET
// /api/v2/profile/get, and with a bulk token POST /internal/profile/import
// (NDJSON records) and /internal/profile/get), on one keep-alive HTTP/1.1
// connection (Boost.Beast). Reusable by any tool that writes timestamped
// updates into the writer (backfill, verify, the binlog follower).
//
// Every request has a deadline (request_timeout_ms). Connection failures,
// timeouts, 500 and 503 are retried with exponential backoff (honouring
// Retry-After) until retry_deadline_ms has passed since the first attempt,
// then reported as Unavailable. Not thread-safe: one instance per worker.
#pragma once

#include <memory>
#include <string_view>

#include "ficus/clock.h"
#include "model/modern_store.h"
#include "service/url.h"

namespace ficus::migrator {

struct HttpStoreOptions {
  HttpUrl url;
  int request_timeout_ms = 10'000;
  int retry_deadline_ms = 30'000;
  std::string api_prefix = "/api/v2/profile";
  std::string bulk_prefix = "/internal/profile";
  std::string bulk_token;  // the secret; empty: no bulk endpoints (HasBulk() is false)
  std::string bulk_token_origin = "--writer-token-file";  // for messages
};

// The secret of the first token in a token file's text (`name:secret` or a
// bare secret per line, `#` comments: the writer's --bulk-token-file
// format). InvalidArgument naming `origin` when there is none.
Result<std::string> FirstTokenSecret(std::string_view text, const std::string& origin);

std::unique_ptr<ModernStore> MakeHttpModernStore(const HttpStoreOptions& options, Clock& clock);

}  // namespace ficus::migrator
