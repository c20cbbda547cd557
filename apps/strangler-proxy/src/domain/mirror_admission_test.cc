#include "domain/mirror_admission.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

constexpr int64_t kMs = 1000;

TEST(MirrorAdmission, SendsWhileTheTargetIsUpAndTheRouteHasRoom) {
  EXPECT_EQ(AdmitMirror({true, false, 0, 1}), std::nullopt);
  EXPECT_EQ(AdmitMirror({true, false, 255, 256}), std::nullopt);
}

TEST(MirrorAdmission, DownOrBreakerOpenIsUnhealthyBeforeOverflow) {
  EXPECT_EQ(AdmitMirror({false, false, 0, 8}), MirrorOutcome::kUnhealthy);
  EXPECT_EQ(AdmitMirror({true, true, 0, 8}), MirrorOutcome::kUnhealthy);
  EXPECT_EQ(AdmitMirror({false, false, 8, 8}), MirrorOutcome::kUnhealthy);
}

TEST(MirrorAdmission, TheInflightBoundOverflows) {
  EXPECT_EQ(AdmitMirror({true, false, 8, 8}), MirrorOutcome::kOverflow);
  EXPECT_EQ(AdmitMirror({true, false, 9, 8}), MirrorOutcome::kOverflow);
  EXPECT_EQ(AdmitMirror({true, false, 0, 0}), MirrorOutcome::kOverflow);
}

TEST(MirrorBreaker, ClosedUntilAConnectFails) {
  MirrorBreaker b;
  EXPECT_FALSE(b.Open(0));
  b.Note(MirrorOutcome::kTimeout, 0);
  b.Note(MirrorOutcome::kIoError, 0);
  EXPECT_FALSE(b.Open(1));
  EXPECT_EQ(b.backoff_ms(), 0u);
}

TEST(MirrorBreaker, BackoffDoublesFrom50msTo1sAndStaysThere) {
  MirrorBreaker b;
  int64_t now = 1'000'000;
  for (uint32_t want : {50u, 100u, 200u, 400u, 800u, 1000u, 1000u}) {
    b.Note(MirrorOutcome::kConnectError, now);
    EXPECT_EQ(b.backoff_ms(), want);
    EXPECT_TRUE(b.Open(now));
    EXPECT_TRUE(b.Open(now + want * kMs - 1));
    EXPECT_FALSE(b.Open(now + want * kMs));  // the next copy probes the target
    now += want * kMs;
  }
}

TEST(MirrorBreaker, OneCopyThatConnectsClosesIt) {
  MirrorBreaker b;
  b.Note(MirrorOutcome::kConnectError, 0);
  b.Note(MirrorOutcome::kConnectError, 50 * kMs);
  ASSERT_TRUE(b.Open(60 * kMs));
  b.Note(MirrorOutcome::kOk, 60 * kMs);  // e.g. a copy sent before it opened
  EXPECT_FALSE(b.Open(60 * kMs));
  EXPECT_EQ(b.backoff_ms(), 0u);
  b.Note(MirrorOutcome::kConnectError, 70 * kMs);
  EXPECT_EQ(b.backoff_ms(), 50u);  // starts over
}

}  // namespace
}  // namespace ficus::proxy
