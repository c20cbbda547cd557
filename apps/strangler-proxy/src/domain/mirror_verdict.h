// Mirror verdict: what the control plane does with one mirrored exchange
// once its copy is settled (answered, failed, or dropped before sending).
//
//   modern     the copy went to modern: its outcome feeds the route's
//              fallback detector (an error may trip the route back to
//              legacy). A copy dropped because modern is down (health check
//              or mirror breaker) counts as an error; one dropped for the
//              in-flight bound does not count at all.
//   comparison in shadow and canary, when both sides answered: compare the
//              two answers, or skip them (the primary's answer was over
//              compare.max_bytes, or the answer may have overtaken a write
//              of the same user: `raced`).
//   replay     writes only: a copy that did not land (not sent, no answer,
//              or a retryable status: 5xx, 408, 409, 429) goes to the replay
//              log (append); a write persisted before its answer
//              (durable_before_answer, replay_seq set) is settled when its
//              copy landed and released to the replayer when not. A durable
//              write whose copy was dropped was persisted by the proxy
//              already: nothing more.
//
// Pure; no I/O; thread-safe.
#pragma once

#include "domain/mirror_sink.h"

namespace ficus::proxy {

struct MirrorVerdict {
  enum class Modern { kNone, kOk, kError };
  enum class Comparison { kNone, kCompare, kSkipTooLarge, kSkipRaced };
  enum class Replay { kNone, kAppend, kSettle, kRelease };

  Modern modern = Modern::kNone;
  Comparison comparison = Comparison::kNone;
  Replay replay = Replay::kNone;
  // The copy's target answered with an error (no answer or 5xx): for the
  // live figures of the side that answered (completed copies only).
  bool failed = false;
};

// The copy was never sent (`why`: overflow or unhealthy).
MirrorVerdict JudgeDropped(const MirrorExchange& ex, MirrorOutcome why);

// The copy was sent and `result` tells how it went; the primary's answer is
// in `ex`. `raced`: an answer of the user may have overtaken one of the
// user's writes (in flight, just completed, or waiting in the replay log).
MirrorVerdict JudgeCompleted(const MirrorExchange& ex, const MirrorResult& result, bool raced);

// A status the sender may retry: the write may not have been applied.
bool RetryableStatus(int status);
// The copy reached its target and was applied (or definitively refused).
bool Landed(const MirrorResult& result);

}  // namespace ficus::proxy
