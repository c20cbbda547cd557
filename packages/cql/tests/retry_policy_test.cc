#include "ficus/cql/retry_policy.h"

#include <gtest/gtest.h>

#include "ficus/cql/frame.h"

namespace ficus::cql {
namespace {

using namespace std::chrono_literals;

TEST(CqlRetryPolicy, ClassifiesSendFailuresAndServerErrors) {
  EXPECT_EQ(ClassifySendError(Error(ErrorCode::kTimeout, "cql: request timed out")),
            AttemptError::kClientTimeout);
  EXPECT_EQ(ClassifySendError(Error(ErrorCode::kUnavailable, "cql: connection closed")),
            AttemptError::kConnectionBroken);
  EXPECT_EQ(ClassifyServerError(0x1001), AttemptError::kOverloaded);
  EXPECT_EQ(ClassifyServerError(0x1002), AttemptError::kIsBootstrapping);
  EXPECT_EQ(ClassifyServerError(0x1000), AttemptError::kUnavailable);
  for (auto other : {ErrorKind::kServerError, ErrorKind::kWriteTimeout, ErrorKind::kReadTimeout,
                     ErrorKind::kWriteFailure, ErrorKind::kSyntaxError, ErrorKind::kInvalid,
                     ErrorKind::kUnauthorized, ErrorKind::kUnprepared, ErrorKind::kTruncateError}) {
    EXPECT_EQ(ClassifyServerError(static_cast<std::int32_t>(other)), AttemptError::kOther)
        << static_cast<int>(other);
  }
}

TEST(CqlRetryPolicy, RetriesOnlyIdempotentRetryableFailuresWithinBudget) {
  RetryState s{.idempotent = true, .attempts_made = 1, .max_attempts = 3, .remaining = 500ms};
  for (auto e :
       {AttemptError::kConnectionBroken, AttemptError::kClientTimeout, AttemptError::kOverloaded,
        AttemptError::kIsBootstrapping, AttemptError::kUnavailable}) {
    EXPECT_TRUE(ShouldRetryOnNextHost(e, s)) << AttemptErrorName(e);
    RetryState not_idem = s;
    not_idem.idempotent = false;
    EXPECT_FALSE(ShouldRetryOnNextHost(e, not_idem)) << AttemptErrorName(e);
  }
  EXPECT_FALSE(ShouldRetryOnNextHost(AttemptError::kOther, s));
  RetryState spent = s;
  spent.attempts_made = 3;
  EXPECT_FALSE(ShouldRetryOnNextHost(AttemptError::kConnectionBroken, spent));
  RetryState late = s;
  late.remaining = 500us;
  EXPECT_FALSE(ShouldRetryOnNextHost(AttemptError::kConnectionBroken, late));
  late.remaining = -1ms;
  EXPECT_FALSE(ShouldRetryOnNextHost(AttemptError::kClientTimeout, late));
}

}  // namespace
}  // namespace ficus::cql
