// Retry policy of cql::Session: which failed attempts of a request are tried
// again on the next host. Pure functions; the session applies them.
//
// A request is tried again, on a host it has not tried yet, only when all
// of these hold:
//   - the statement is marked idempotent (ExecOptions::idempotent: running
//     it twice has the effect of running it once, e.g. writes with a client
//     timestamp, reads). A non-idempotent statement is never retried: an
//     attempt that failed in flight may have been applied.
//   - the attempt failed in a way another coordinator may not:
//       kConnectionBroken  the connection closed or failed under the request
//       kClientTimeout     no answer within the attempt's timeout
//       kOverloaded        the coordinator refused the request (0x1001)
//       kIsBootstrapping   the coordinator is still joining (0x1002)
//       kUnavailable       the coordinator saw too few live replicas (0x1000);
//                          another coordinator's view may differ
//     Everything else (write/read timeouts from the replicas, syntax,
//     invalid, unauthorized, ...) is the answer and is returned as is.
//   - fewer than `max_attempts` attempts were made, and
//   - at least `min_attempt` of the request's deadline remains.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "ficus/result.h"

namespace ficus::cql {

enum class AttemptError {
  kConnectionBroken,
  kClientTimeout,
  kOverloaded,
  kIsBootstrapping,
  kUnavailable,
  kOther,
};
std::string_view AttemptErrorName(AttemptError e);

// A failure of Connection::Send (no answer frame): kTimeout is a client-side
// timeout, any other code a broken (or unusable) connection.
AttemptError ClassifySendError(const Error& e);
// An ERROR frame's code.
AttemptError ClassifyServerError(std::int32_t code);

struct RetryState {
  bool idempotent = false;
  int attempts_made = 0;  // including the one that just failed
  int max_attempts = 3;
  std::chrono::nanoseconds remaining{0};  // of the request's deadline
  std::chrono::nanoseconds min_attempt{std::chrono::milliseconds(1)};
};

bool ShouldRetryOnNextHost(AttemptError e, const RetryState& s);

}  // namespace ficus::cql
