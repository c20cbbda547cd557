#include "domain/mirror_verdict.h"

namespace ficus::proxy {

bool RetryableStatus(int status) {
  return status >= 500 || status == 408 || status == 409 || status == 429;
}

bool Landed(const MirrorResult& result) {
  return result.outcome == MirrorOutcome::kOk && !RetryableStatus(result.status);
}

MirrorVerdict JudgeDropped(const MirrorExchange& ex, MirrorOutcome why) {
  MirrorVerdict v;
  // A copy not sent because modern is down is a modern failure like an
  // unanswered one: without it, a group whose users moved off a dead modern
  // (read-your-writes) may never trip.
  if (!ex.mirror_to_legacy && why == MirrorOutcome::kUnhealthy) {
    v.modern = MirrorVerdict::Modern::kError;
  }
  if (ex.write && !ex.durable_before_answer) v.replay = MirrorVerdict::Replay::kAppend;
  return v;
}

MirrorVerdict JudgeCompleted(const MirrorExchange& ex, const MirrorResult& result, bool raced) {
  MirrorVerdict v;
  v.failed = result.outcome != MirrorOutcome::kOk || result.status >= 500;
  if (!ex.mirror_to_legacy) {
    v.modern = v.failed ? MirrorVerdict::Modern::kError : MirrorVerdict::Modern::kOk;
  }
  const bool comparable = (ex.mode == Mode::kShadow || ex.mode == Mode::kCanary) &&
                          result.outcome == MirrorOutcome::kOk && ex.primary_status != 0;
  if (comparable) {
    v.comparison = ex.primary_too_large ? MirrorVerdict::Comparison::kSkipTooLarge
                   : raced              ? MirrorVerdict::Comparison::kSkipRaced
                                        : MirrorVerdict::Comparison::kCompare;
  }
  if (!ex.write) return v;
  if (ex.durable_before_answer && ex.replay_seq != 0) {
    v.replay = Landed(result) ? MirrorVerdict::Replay::kSettle : MirrorVerdict::Replay::kRelease;
  } else if (!Landed(result)) {
    v.replay = MirrorVerdict::Replay::kAppend;
  }
  return v;
}

}  // namespace ficus::proxy
