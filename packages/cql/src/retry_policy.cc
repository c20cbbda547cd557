#include "ficus/cql/retry_policy.h"

#include "ficus/cql/frame.h"

namespace ficus::cql {

std::string_view AttemptErrorName(AttemptError e) {
  switch (e) {
    case AttemptError::kConnectionBroken:
      return "connection_broken";
    case AttemptError::kClientTimeout:
      return "client_timeout";
    case AttemptError::kOverloaded:
      return "overloaded";
    case AttemptError::kIsBootstrapping:
      return "is_bootstrapping";
    case AttemptError::kUnavailable:
      return "unavailable";
    case AttemptError::kOther:
      return "other";
  }
  return "other";
}

AttemptError ClassifySendError(const Error& e) {
  return e.code == ErrorCode::kTimeout ? AttemptError::kClientTimeout
                                       : AttemptError::kConnectionBroken;
}

AttemptError ClassifyServerError(std::int32_t code) {
  switch (static_cast<ErrorKind>(code)) {
    case ErrorKind::kOverloaded:
      return AttemptError::kOverloaded;
    case ErrorKind::kIsBootstrapping:
      return AttemptError::kIsBootstrapping;
    case ErrorKind::kUnavailable:
      return AttemptError::kUnavailable;
    default:
      return AttemptError::kOther;
  }
}

bool ShouldRetryOnNextHost(AttemptError e, const RetryState& s) {
  if (!s.idempotent || e == AttemptError::kOther) return false;
  if (s.attempts_made >= s.max_attempts) return false;
  return s.remaining >= s.min_attempt;
}

}  // namespace ficus::cql
