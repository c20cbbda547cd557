#include "domain/mirror_verdict.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

using V = MirrorVerdict;

MirrorExchange Exchange(Mode mode, bool write, bool to_legacy) {
  MirrorExchange x;
  x.route = "r";
  x.mode = mode;
  x.write = write;
  x.mirror_to_legacy = to_legacy;
  x.primary_status = 200;
  return x;
}

MirrorResult Answer(int status) {
  MirrorResult r;
  r.outcome = MirrorOutcome::kOk;
  r.status = status;
  return r;
}

MirrorResult Failure(MirrorOutcome o) {
  MirrorResult r;
  r.outcome = o;
  return r;
}

TEST(MirrorVerdict, ShadowAndCanaryCompareWhenBothSidesAnswered) {
  for (Mode m : {Mode::kShadow, Mode::kCanary}) {
    const auto v = JudgeCompleted(Exchange(m, false, false), Answer(200), false);
    EXPECT_EQ(v.comparison, V::Comparison::kCompare);
    EXPECT_EQ(v.modern, V::Modern::kOk);
    EXPECT_EQ(v.replay, V::Replay::kNone);  // a read is never replayed
    EXPECT_FALSE(v.failed);
  }
  // A 500 from the mirror is an answer too: compared (and a modern error).
  const auto v = JudgeCompleted(Exchange(Mode::kShadow, false, false), Answer(500), false);
  EXPECT_EQ(v.comparison, V::Comparison::kCompare);
  EXPECT_EQ(v.modern, V::Modern::kError);
  EXPECT_TRUE(v.failed);
}

TEST(MirrorVerdict, FullAndLegacyModesNeverCompare) {
  for (Mode m : {Mode::kFull, Mode::kLegacy}) {
    EXPECT_EQ(JudgeCompleted(Exchange(m, false, true), Answer(200), false).comparison,
              V::Comparison::kNone);
  }
}

TEST(MirrorVerdict, NoComparisonWithoutBothAnswers) {
  auto x = Exchange(Mode::kShadow, false, false);
  EXPECT_EQ(JudgeCompleted(x, Failure(MirrorOutcome::kTimeout), false).comparison,
            V::Comparison::kNone);
  x.primary_status = 0;  // the primary failed (502/504 sent)
  EXPECT_EQ(JudgeCompleted(x, Answer(200), false).comparison, V::Comparison::kNone);
}

TEST(MirrorVerdict, TooLargeThenRacedAreSkipped) {
  auto x = Exchange(Mode::kCanary, false, true);
  EXPECT_EQ(JudgeCompleted(x, Answer(200), true).comparison, V::Comparison::kSkipRaced);
  x.primary_too_large = true;
  EXPECT_EQ(JudgeCompleted(x, Answer(200), true).comparison, V::Comparison::kSkipTooLarge);
  EXPECT_EQ(JudgeCompleted(x, Answer(200), false).comparison, V::Comparison::kSkipTooLarge);
}

TEST(MirrorVerdict, OnlyCopiesToModernFeedTheFallbackDetector) {
  EXPECT_EQ(JudgeCompleted(Exchange(Mode::kFull, true, true), Answer(503), false).modern,
            V::Modern::kNone);
  EXPECT_EQ(JudgeCompleted(Exchange(Mode::kShadow, true, false),
                           Failure(MirrorOutcome::kConnectError), false)
                .modern,
            V::Modern::kError);
  EXPECT_EQ(JudgeCompleted(Exchange(Mode::kShadow, true, false), Answer(404), false).modern,
            V::Modern::kOk);
}

TEST(MirrorVerdict, WriteCopiesThatDidNotLandGoToTheReplayLog) {
  const auto x = Exchange(Mode::kShadow, true, false);
  for (int status : {500, 503, 408, 409, 429}) {
    EXPECT_EQ(JudgeCompleted(x, Answer(status), false).replay, V::Replay::kAppend) << status;
  }
  for (auto o : {MirrorOutcome::kConnectError, MirrorOutcome::kTimeout, MirrorOutcome::kIoError}) {
    EXPECT_EQ(JudgeCompleted(x, Failure(o), false).replay, V::Replay::kAppend);
  }
  for (int status : {200, 201, 400, 404, 422}) {
    EXPECT_EQ(JudgeCompleted(x, Answer(status), false).replay, V::Replay::kNone) << status;
  }
}

TEST(MirrorVerdict, AWritePersistedBeforeItsAnswerIsSettledOrReleased) {
  auto x = Exchange(Mode::kCanary, true, true);
  x.durable_before_answer = true;
  x.replay_seq = 7;
  EXPECT_EQ(JudgeCompleted(x, Answer(200), false).replay, V::Replay::kSettle);
  EXPECT_EQ(JudgeCompleted(x, Answer(409), false).replay, V::Replay::kRelease);
  EXPECT_EQ(JudgeCompleted(x, Failure(MirrorOutcome::kTimeout), false).replay, V::Replay::kRelease);
  // Durable but persisting failed (id 0): appended like any other.
  x.replay_seq = 0;
  EXPECT_EQ(JudgeCompleted(x, Answer(500), false).replay, V::Replay::kAppend);
}

TEST(MirrorVerdict, DroppedCopies) {
  auto v = JudgeDropped(Exchange(Mode::kShadow, true, false), MirrorOutcome::kUnhealthy);
  EXPECT_EQ(v.modern, V::Modern::kError);
  EXPECT_EQ(v.replay, V::Replay::kAppend);
  EXPECT_EQ(v.comparison, V::Comparison::kNone);
  v = JudgeDropped(Exchange(Mode::kShadow, true, false), MirrorOutcome::kOverflow);
  EXPECT_EQ(v.modern, V::Modern::kNone);  // our own bound, not modern's fault
  EXPECT_EQ(v.replay, V::Replay::kAppend);
  v = JudgeDropped(Exchange(Mode::kFull, true, true), MirrorOutcome::kUnhealthy);
  EXPECT_EQ(v.modern, V::Modern::kNone);  // legacy down says nothing about modern
  v = JudgeDropped(Exchange(Mode::kShadow, false, false), MirrorOutcome::kOverflow);
  EXPECT_EQ(v.replay, V::Replay::kNone);  // reads are just dropped
  auto durable = Exchange(Mode::kCanary, true, true);
  durable.durable_before_answer = true;  // the proxy persists it itself
  EXPECT_EQ(JudgeDropped(durable, MirrorOutcome::kOverflow).replay, V::Replay::kNone);
}

}  // namespace
}  // namespace ficus::proxy
