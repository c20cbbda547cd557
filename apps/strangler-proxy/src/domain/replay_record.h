// One mirrored write on its way to a backend through the replay log, and
// what its delivery attempt came to.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ficus::proxy {

struct ReplayRecord {
  uint64_t seq = 0;         // assigned by Append
  int64_t appended_ms = 0;  // Unix ms, assigned by Append
  std::string route;
  std::string backend;   // where it must go: "legacy" | "modern"
  std::string user_key;  // order key (cohort key); "" = one shared lane
  std::string method;
  std::string target;                                        // path + query as sent to the backend
  std::vector<std::pair<std::string, std::string>> headers;  // incl. X-Ficus-Timestamp
  std::string body;
};

enum class ReplayOutcome {
  kDelivered,  // target accepted it (2xx): acknowledged, next record of the user
  kRejected,   // target refused for good (4xx other than 408/429): acked, counted
  kRetry,      // target unavailable (5xx, 408, 429, timeout, connect): back off
};

}  // namespace ficus::proxy
