#include "api/mismatch_recheck.h"

#include <algorithm>
#include <cassert>
#include <chrono>

#include "domain/recheck.h"
#include "ficus/http/blocking_client.h"
#include "ficus/http/message.h"

namespace ficus::proxy {
namespace {

// Fields of the original request that do not belong on a bodiless re-read
// (framing, hop-by-hop, the proxy's own), or that the read sets itself.
bool Dropped(std::string_view name, const RecheckRead& read) {
  static constexpr std::string_view kDrop[] = {
      "content-length", "content-type", "transfer-encoding", "connection",
      "keep-alive",     "te",           "trailer",           "upgrade",
      "expect",         "host",         "content-encoding"};
  for (auto d : kDrop) {
    if (http::IEquals(name, d)) return true;
  }
  if (name.size() >= 8 && http::IEquals(name.substr(0, 8), "x-ficus-")) return true;
  for (const auto& [key, value] : read.headers) {
    if (http::IEquals(name, key)) return true;
  }
  return name.find_first_of("\r\n") != std::string_view::npos;
}

std::string Head(const std::string& target, const http::ClientTarget& upstream,
                 const std::vector<std::pair<std::string, std::string>>& original,
                 const RecheckRead& read) {
  std::string head = "GET " + target + " HTTP/1.1\r\nHost: " + upstream.host + "\r\n";
  for (const auto& [name, value] : original) {
    if (Dropped(name, read) || value.find_first_of("\r\n") != std::string::npos) continue;
    head.append(name).append(": ").append(value).append("\r\n");
  }
  for (const auto& [name, value] : read.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head += "X-Ficus-Recheck: 1\r\n\r\n";
  return head;
}

struct Answer {
  bool ok = false;
  int status = 0;
  std::string body;
  [[nodiscard]] HttpAnswer View() const { return HttpAnswer{status, body}; }
};

Answer Read(const http::ClientTarget& target, const std::string& head) {
  Answer a;
  auto r = http::BlockingExchange(target, head, {},
                                  std::min<uint32_t>(target.response_timeout_ms, 5000));
  if (!r.ok()) return a;
  a.ok = true;
  a.status = static_cast<int>(r.response.status);
  a.body = std::move(r.response.body());
  return a;
}

RecheckMetrics Register(MetricsRegistry& metrics) {
  RecheckMetrics m;
  FICUS_REGISTER_METRICS(ALL_RECHECK_METRICS, m, metrics, "ficus_proxy_recheck_");
  return m;
}

}  // namespace

MismatchRechecker::MismatchRechecker(ControlPlane& cp, Deps deps, MetricsRegistry& metrics,
                                     size_t max_pending)
    : cp_(cp),
      deps_(std::move(deps)),
      max_pending_(max_pending),
      m_(Register(metrics)),
      worker_([this] { Run(); }) {
  assert(deps_.clock && "MismatchRechecker::Deps::clock");
}

MismatchRechecker::~MismatchRechecker() {
  Stop();
}

int64_t MismatchRechecker::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             deps_.clock->Mono().time_since_epoch())
      .count();
}

bool MismatchRechecker::Submit(Job&& job) {
  auto cfg = deps_.config();
  const Route* route = cfg ? cfg->FindRoute(job.record.route) : nullptr;
  if (!route || !PlanRecheck(*cfg, *route, job.record.user_key)) return false;
  const int64_t due = NowMs() + route->compare.recheck_ms;
  const unsigned tries = route->compare.recheck_tries;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (due_.size() >= max_pending_) {
      m_.overflow_total->Inc();
      return false;
    }
    due_.emplace(due, Held{std::move(job), tries});
    m_.held->Set(static_cast<int64_t>(due_.size()));
  }
  m_.submitted_total->Inc();
  cv_.notify_one();
  return true;
}

void MismatchRechecker::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

size_t MismatchRechecker::pending() const {
  std::lock_guard lock(mu_);
  return due_.size();
}

void MismatchRechecker::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const int64_t wait = due_.begin()->first - NowMs();
    if (wait > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait, 100)));
      continue;
    }
    Held held = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    lock.unlock();
    Process(std::move(held));  // a retry is back in due_ before the count drops
    lock.lock();
    m_.held->Set(static_cast<int64_t>(due_.size()));
  }
}

void MismatchRechecker::Process(Held held) {
  auto& rec = held.job.record;
  auto cfg = deps_.config();
  const Route* route = cfg ? cfg->FindRoute(rec.route) : nullptr;
  auto plan = route ? PlanRecheck(*cfg, *route, rec.user_key) : std::nullopt;
  if (!plan) {  // the route or its re-check went away with a reload
    cp_.Report(std::move(rec));
    return;
  }
  RecheckObservation o;
  o.tries_left = held.tries_left > 0 ? held.tries_left - 1 : 0;
  o.user_busy = deps_.busy(rec.user_key, plan->legacy_backend, plan->modern_backend);
  if (!o.user_busy) {
    auto legacy = deps_.resolve(plan->legacy_backend);
    auto modern = deps_.resolve(plan->modern_backend);
    if (legacy && modern) {
      m_.reads_total->Inc();
      const Answer l = Read(*legacy, Head(plan->legacy_target, *legacy, held.job.headers, *plan));
      const Answer m = Read(*modern, Head(plan->modern_target, *modern, held.job.headers, *plan));
      o.answered = l.ok && m.ok;
      o.differ = o.answered && cp_.Differs(plan->via_route, l.View(), m.View());
      // A write of the user during the reads: they may straddle it.
      o.user_busy = deps_.busy(rec.user_key, plan->legacy_backend, plan->modern_backend);
    }
  }
  switch (RecheckVerdictFor(o)) {
    case RecheckVerdict::kTransient:
      cp_.RecordTransient(rec.route);
      return;
    case RecheckVerdict::kPending:
      cp_.RecordSkipped(rec.route);
      return;
    case RecheckVerdict::kReport:
      cp_.Report(std::move(rec));
      return;
    case RecheckVerdict::kRetry: {
      held.tries_left = o.tries_left;
      const int64_t due = NowMs() + route->compare.recheck_ms;
      std::lock_guard lock(mu_);
      if (!stopping_) due_.emplace(due, std::move(held));
      return;
    }
  }
}

}  // namespace ficus::proxy
