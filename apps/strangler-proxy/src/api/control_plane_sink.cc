#include "api/control_plane_sink.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "ficus/clock.h"

namespace ficus::proxy {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto l = [] {
    if (auto existing = spdlog::get("control")) return existing;
    auto lg = spdlog::default_logger()->clone("control");
    spdlog::register_logger(lg);
    return lg;
  }();
  return l;
}

// Errors on the request path are logged once per 100 (the counters have them all).
bool LogBudget() {
  static std::atomic<uint64_t> n{0};
  return n.fetch_add(1, std::memory_order_relaxed) % 100 == 0;
}

ReplayRecord ToWrite(const MirrorExchange& ex) {
  ReplayRecord w;
  w.route = ex.route;
  w.backend = ex.mirror_backend;
  w.user_key = ex.cohort_key;
  w.method = ex.method;
  w.target = ex.target;
  w.headers = ex.headers;
  w.body = ex.body;
  return w;
}

int64_t MonoNowUs() {
  return MonoMicros(SystemClock::MonoNow());
}

// A write sent to the replay log counts as racing this long (replay is
// usually faster; a backlog that lasts longer shows up as mismatches).
constexpr int64_t kReplayRaceUs = 5'000'000;

}  // namespace

ControlPlaneSink::ControlPlaneSink(ControlPlane& cp, ReplayLog* replay_log,
                                   MetricsRegistry& metrics, bool durable_to_legacy, OnTrip on_trip,
                                   bool durable_to_modern)
    : cp_(cp),
      replay_log_(replay_log),
      durable_to_legacy_(durable_to_legacy),
      durable_to_modern_(durable_to_modern),
      on_trip_(std::move(on_trip)) {
  FICUS_REGISTER_METRICS(ALL_CONTROL_PLANE_SINK_METRICS, m_, metrics, "ficus_proxy_");
}

void ControlPlaneSink::Append(const MirrorExchange& ex, const char* why) {
  writes_.Pending(ex.cohort_key, MonoNowUs() + kReplayRaceUs);
  if (!replay_log_) {
    m_.unprotected_writes_total->Inc();
    return;
  }
  m_.replay_appended_total->Inc();
  replay_log_->Append(
      ToWrite(ex), false,
      // Runs on the replay log's sync thread, possibly while the
      // process shuts down: no `this`, only registry-owned counters.
      [failures = m_.replay_append_failures_total, unprotected = m_.unprotected_writes_total,
       route = ex.route, id = ex.request_id, why](Result<uint64_t> r) {
        if (r) return;
        failures->Inc();
        unprotected->Inc();
        if (LogBudget()) {
          Log()->error("route {}: request {} ({}) not replayable: {}", route, id, why,
                       r.error().message);
        }
      });
}

void ControlPlaneSink::RecordModern(const std::string& route, bool error) {
  if (!cp_.RecordModern(route, error)) return;
  auto live = cp_.Live(route);
  const std::string reason = live ? live->fallback.reason : "modern error rate over threshold";
  Log()->error("route {}: AUTO-FALLBACK to legacy: {}; stays until an operator re-enables it",
               route, reason);
  if (on_trip_) on_trip_(route, reason);
}

void ControlPlaneSink::OnDropped(const MirrorExchange& ex, MirrorOutcome why) {
  const MirrorVerdict v = JudgeDropped(ex, why);
  FeedFallback(ex, v);
  ApplyReplay(ex, v, MirrorOutcomeName(why));
}

void ControlPlaneSink::OnDispatched(const MirrorExchange& ex) {
  if (ex.write) writes_.Begin(ex.cohort_key, ex.mirror_to_legacy);
}

void ControlPlaneSink::OnReplayed(std::string_view user) {
  writes_.Pending(user, MonoNowUs());
}

bool ControlPlaneSink::ReplayPending(const MirrorExchange& ex) const {
  if (!replay_log_ || ex.cohort_key.empty()) return false;
  // This write's own held record (durable before answer) is not a race.
  const uint64_t own = ex.replay_seq != 0 ? 1 : 0;
  return replay_log_->PendingFor(ex.cohort_key, ex.mirror_backend) > own ||
         replay_log_->PendingFor(ex.cohort_key, ex.primary_backend) > 0;
}

bool ControlPlaneSink::PendingTowards(std::string_view user, const std::string& backend,
                                      bool legacy) const {
  if (user.empty()) return false;
  if (writes_.InFlightTo(user, legacy)) return true;
  return replay_log_ && replay_log_->PendingFor(std::string(user), backend) > 0;
}

bool ControlPlaneSink::UserBusy(std::string_view user, const std::string& legacy,
                                const std::string& modern) const {
  if (user.empty()) return false;
  if (writes_.MayRace(user, MonoNowUs(), 1000)) return true;
  return replay_log_ && (replay_log_->PendingFor(std::string(user), legacy) > 0 ||
                         replay_log_->PendingFor(std::string(user), modern) > 0);
}

void ControlPlaneSink::OnCompleted(const MirrorExchange& ex, const MirrorResult& result) {
  const int64_t now = MonoNowUs();
  // Any write of the user that completed after this copy was sent may have
  // reached the target after it.
  const int64_t window = (ex.dispatched_us ? now - ex.dispatched_us : result.latency_us) + 1000;
  const bool raced = ex.write ? writes_.End(ex.cohort_key, now, window, ex.mirror_to_legacy)
                              : writes_.MayRace(ex.cohort_key, now, window);
  const MirrorVerdict v = JudgeCompleted(ex, result, raced || ReplayPending(ex));
  // Live figures count what each backend answered, mirrors included (in
  // shadow that is how modern's latency shows next to legacy's).
  cp_.RecordPrimary(ex.route, !ex.mirror_to_legacy, result.latency_us, v.failed, true);
  FeedFallback(ex, v);
  switch (v.comparison) {
    case MirrorVerdict::Comparison::kNone:
      break;
    case MirrorVerdict::Comparison::kSkipTooLarge:
    case MirrorVerdict::Comparison::kSkipRaced:
      cp_.RecordSkipped(ex.route, v.comparison == MirrorVerdict::Comparison::kSkipTooLarge);
      break;
    case MirrorVerdict::Comparison::kCompare: {
      const HttpAnswer primary{ex.primary_status, ex.primary_body};
      const HttpAnswer mirror{result.status, result.body};
      const bool legacy_primary = !ex.mirror_to_legacy;
      const std::string_view path(ex.target.data(),
                                  std::min(ex.target.size(), ex.target.find('?')));
      auto mismatch =
          cp_.Diff({ex.route, ex.request_id, ex.cohort_key, ex.method, path,
                    legacy_primary ? primary : mirror, legacy_primary ? mirror : primary});
      if (mismatch) {
        // Held for a re-read of the user from both sides (mismatch_recheck.h).
        MismatchRechecker::Job job{std::move(*mismatch), {}};
        if (rechecker_) job.headers = ex.headers;
        // NOLINTNEXTLINE(bugprone-use-after-move): Submit moves from job only when it returns true
        if (!rechecker_ || !rechecker_->Submit(std::move(job))) cp_.Report(std::move(job.record));
      }
      break;
    }
  }
  ApplyReplay(ex, v, MirrorOutcomeName(result.outcome));
}

void ControlPlaneSink::FeedFallback(const MirrorExchange& ex, const MirrorVerdict& v) {
  if (v.modern != MirrorVerdict::Modern::kNone) {
    RecordModern(ex.route, v.modern == MirrorVerdict::Modern::kError);
  }
}

void ControlPlaneSink::ApplyReplay(const MirrorExchange& ex, const MirrorVerdict& v,
                                   const char* why) {
  switch (v.replay) {
    case MirrorVerdict::Replay::kNone:
      break;
    case MirrorVerdict::Replay::kAppend:
      Append(ex, why);
      break;
    // Held while in flight: settle or hand to the replayer. (Persisted with
    // in_flight = false it is already queued; both calls then say NotFound.)
    case MirrorVerdict::Replay::kSettle:
      (void)replay_log_->Settle(ex.replay_seq);
      break;
    case MirrorVerdict::Replay::kRelease:
      (void)replay_log_->Release(ex.replay_seq);
      break;
  }
}

void ControlPlaneSink::OnPrimary(const PrimaryObservation& obs) {
  const bool error = obs.status == 0 || obs.status >= 500;
  cp_.RecordPrimary(obs.route, obs.modern, obs.latency_us, error);
  if (obs.modern) RecordModern(std::string(obs.route), error);
}

std::optional<std::string> ControlPlaneSink::RefuseWrite(std::string_view route) {
  if (!replay_log_ || !durable_to_legacy_ || !replay_log_->Full()) return std::nullopt;
  m_.writes_refused_total->Inc();
  if (LogBudget()) {
    Log()->error("route {}: refusing writes served by modern: the replay log is full", route);
  }
  return std::string(
      "overloaded: the replay log is full, the write cannot be kept for legacy; "
      "retry later");
}

bool ControlPlaneSink::NeedsDurableBeforeAnswer(const MirrorExchange& ex) const {
  return replay_log_ && ex.write && (ex.mirror_to_legacy ? durable_to_legacy_ : durable_to_modern_);
}

void ControlPlaneSink::Persist(const MirrorExchange& ex, bool in_flight,
                               std::function<void(uint64_t)> done) {
  m_.replay_appended_total->Inc();
  replay_log_->Append(
      ToWrite(ex), in_flight,
      [failures = m_.replay_append_failures_total, unprotected = m_.unprotected_writes_total,
       done = std::move(done), route = ex.route, id = ex.request_id](Result<uint64_t> r) {
        if (!r) {
          failures->Inc();
          unprotected->Inc();
          if (LogBudget()) {
            Log()->error(
                "route {}: request {} answered without a durable copy "
                "for legacy: {}",
                route, id, r.error().message);
          }
        }
        done(r ? *r : 0);
      });
}

}  // namespace ficus::proxy
