// Proxy: the forwarding path. One request in, one backend answer out, and
// (per the route's mode) a mirrored copy to the other backend that never
// delays or alters that answer.
//
// Flow of Handle() (runs on the connection's event loop, see
// ficus/http/server.h for the handler contract), one named step each:
//   Plan             match the route and plan it (domain/route_plan.h:
//                    cohort, primary, mirror, whether the body is needed);
//                    unmatched requests go to the default backend untouched;
//   ReadWholeBodyAndReplan  a streamed body the plan needs after all;
//   FollowTheWrites  read-your-writes may swap primary and mirror
//                    (PendingWrites); the backends the plan names;
//   Refuse           503 for a write that cannot be kept durably
//                    (DurableWrites::RefuseWrite), 403 for a refused upgrade;
//   PrepareUpstream  headers (forward.h), X-Ficus-Timestamp on writes (the
//                    same stamp for primary and mirror), the request head;
//   RecordIntent     a mirrored write's intent is written (one write(2)
//                    per loop turn, WriteIntents) before it leaves towards
//                    either side, and settled once both sides have it or
//                    its replay record;
//   SendPrimary      on this loop's keep-alive pool (a streamed body on a new
//                    connection, piece by piece); once the request is on the
//                    wire, DispatchMirror sends the copy as a detached
//                    coroutine with its own timeout when mirror admission
//                    (domain/mirror_admission.h: health, breaker, in-flight
//                    bound) lets it, else reports it dropped;
//   KeepAnswerForCompare  a compared answer is kept up to compare.max_bytes;
//   Answer           the client's answer, or 502 (connect/io) / 504
//                    (timeout) in the JSON envelope; PrimaryObserver;
//   KeepWriteDurable lossless rollback: persist before the answer;
//   FinishPrimary    the mirror may report (MirrorSink), metrics, one JSON
//                    access-log line (plus one per finished mirror);
//   WaitForMirror    when draining, a mirror still in flight is waited for.
//
// Config: SetConfig() builds an immutable Runtime (config + resolved
// backends + metric handles) and swaps it atomically; requests in flight
// keep the Runtime they started with. Thread-safe.
// Drain: after BeginDrain(), a handler whose mirror is still in flight waits
// for it (bounded by the mirror timeout) so a shutdown does not cut mirrors.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "domain/config.h"
#include "domain/durable_writes.h"
#include "domain/mirror_admission.h"
#include "domain/mirror_sink.h"
#include "domain/pending_writes.h"
#include "domain/primary_observer.h"
#include "domain/routing.h"
#include "domain/write_intents.h"
#include "ficus/clock.h"
#include "ficus/http/client.h"
#include "ficus/http/message.h"
#include "ficus/metrics.h"
#include "ficus/result.h"
#include "service/access_log.h"

namespace ficus::proxy {

// Per-backend state that outlives config reloads (health, metric series).
struct BackendState {
  std::atomic<bool> up{true};
  Gauge* up_gauge = nullptr;
  MirrorBreaker mirror_breaker;  // steady clock; see domain/mirror_admission.h
};

// Per-route state that outlives config reloads.
struct RouteState {
  std::atomic<uint32_t> mirror_inflight{0};
  Gauge* mirror_inflight_gauge = nullptr;
};

struct RoleMetrics {
  std::array<Counter*, 6> by_class{};  // index status/100 (0 = proxy error 5xx counted too)
  Counter* connect_errors = nullptr;
  Counter* timeouts = nullptr;
  Counter* io_errors = nullptr;
  Histogram* latency = nullptr;
};

struct BackendRuntime {
  const Backend* config = nullptr;
  http::ClientTarget target;
  BackendState* state = nullptr;
};

struct RouteRuntime {
  const Route* route = nullptr;  // nullptr: the default route
  std::string name;
  const Cohort* cohort = nullptr;
  RouteState* state = nullptr;
  const BackendRuntime* legacy = nullptr;
  const BackendRuntime* modern = nullptr;
  RoleMetrics metrics[2];                    // [Role::kLegacy], [Role::kModern]
  std::array<Counter*, 6> mirror_outcome{};  // index MirrorOutcome
  Histogram* mirror_latency = nullptr;
};

struct Runtime {
  std::shared_ptr<const Config> config;
  std::map<std::string, BackendRuntime, std::less<>> backends;
  std::vector<RouteRuntime> routes;  // same order as config->routes
  // Copies of backends with a route's `timeouts:` applied (same pool key,
  // state and config): what RouteRuntime::legacy/modern point to for such
  // a route. A deque: addresses stay put.
  std::deque<BackendRuntime> route_backends;
  RouteRuntime default_route;  // legacy = the default backend
  uint64_t generation = 0;
};

// What the proxy reports to and asks of the control plane; each nullptr:
// nothing (NullMirrorSink, NoDurableWrites, ...). Must outlive the Proxy.
struct ProxyHooks {
  MirrorSink* mirrors = nullptr;
  DurableWrites* durable = nullptr;
  PrimaryObserver* primaries = nullptr;
  const PendingWrites* pending = nullptr;
  // Intents of mirrored writes (the kill -9 window; replay.intents).
  WriteIntents* intents = nullptr;
};

// The upstream connections of the calling event loop. Default: one
// http::Client per loop (thread-local). Tests pass scripted ones.
using UpstreamsFor = std::function<http::Exchanger&(const boost::asio::any_io_executor&)>;

// ficus_proxy_*: the proxy's fixed metrics, in one place (the per-route and
// per-backend series are registered with each config, FillRouteMetrics).
#define ALL_PROXY_METRICS(COUNTER, GAUGE, HISTOGRAM)                                          \
  COUNTER(handled_total, "Requests handled.")                                                 \
  COUNTER(upgrades_refused_total, "Upgrade requests refused (403) by route config.")          \
  COUNTER(tunnels_total, "Upgrade tunnels opened (101 relayed).")                             \
  GAUGE(tunnels_active, "Upgrade tunnels open now.")                                          \
  COUNTER(persist_graced_total,                                                               \
          "Writes whose copy landed within replay.persist_grace_ms, so no replay record was " \
          "written before the answer.")                                                       \
  GAUGE(config_generation, "Config generation in force (1 = first load).")
struct ProxyMetrics {
  FICUS_METRIC_FIELDS(ALL_PROXY_METRICS)
};

class Proxy {
 public:
  Proxy(MetricsRegistry& metrics, const ProxyHooks& hooks, const Clock& clock,
        AccessLog& access_log, UpstreamsFor upstreams = nullptr);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Validates what the domain cannot (backend hosts resolve), builds the
  // runtime and swaps it in. Error: the old runtime stays.
  Status SetConfig(const std::shared_ptr<const Config>& config);
  [[nodiscard]] std::shared_ptr<const Runtime> runtime() const;
  // Where `backend` of the running config is, while its health check says
  // it is up; nullopt when it is down or unknown (the replayer and the
  // mismatch re-check wait).
  [[nodiscard]] std::optional<http::ClientTarget> UpTarget(const std::string& backend) const;

  boost::asio::awaitable<http::Response> Handle(http::Request& req);
  // The server's stream_body predicate (any loop thread): true when the
  // body should be streamed to the backend instead of buffered: it is
  // chunked or at least 64 KiB, and neither a mirror nor a JSON cohort key
  // needs it whole. Handle() still buffers it (bounded by max_body_bytes) if
  // its own runtime needs it after all.
  bool StreamBody(const http::Request& head);

  void BeginDrain() { draining_.store(true); }
  [[nodiscard]] bool draining() const { return draining_.load(); }
  // Mirrors in flight across all loops.
  [[nodiscard]] int64_t MirrorsInFlight() const { return mirrors_inflight_.load(); }

 private:
  struct MirrorJob;
  struct Call;
  http::Exchanger& UpstreamsOf(const boost::asio::any_io_executor& ex) const;
  // The steps of Handle(), in order (proxy.cc).
  void Plan(Call& c) const;
  boost::asio::awaitable<std::optional<http::Response>> ReadWholeBodyAndReplan(Call& c) const;
  void FollowTheWrites(Call& c) const;
  std::optional<http::Response> Refuse(Call& c);
  void PrepareUpstream(Call& c) const;
  boost::asio::awaitable<void> RecordIntent(Call& c);
  void SettleIntent(uint64_t id, const boost::asio::any_io_executor& ex);
  void ScheduleIntentFlush(const boost::asio::any_io_executor& ex);
  boost::asio::awaitable<void> SendPrimary(Call& c);
  void DispatchMirror(Call& c);
  void FillExchange(const Call& c, MirrorExchange& x) const;
  boost::asio::awaitable<void> KeepAnswerForCompare(Call& c) const;
  http::Response Answer(Call& c);
  boost::asio::awaitable<void> KeepWriteDurable(Call& c, unsigned status);
  void FinishPrimary(Call& c, const http::Response& resp);
  boost::asio::awaitable<void> WaitForMirror(Call& c);
  // One access-log line's fields (views valid for the call).
  struct AccessEntry {
    std::string_view request_id, client_ip, route, backend, upstream_target, mode, upstream_error,
        mirror;
    CohortState cohort = CohortState::kNone;
    unsigned status = 0;
    int64_t latency_us = 0;
  };
  void LogAccess(const http::Request& req, const AccessEntry& e);
  boost::asio::awaitable<void> RunMirror(std::shared_ptr<MirrorJob> job);
  void FinishMirror(MirrorJob& job, const boost::asio::any_io_executor& ex);
  BackendState* BackendStateFor(const std::string& name);
  RouteState* RouteStateFor(const std::string& name);
  void FillRouteMetrics(RouteRuntime& rr);

  MetricsRegistry& metrics_;
  MirrorSink& mirrors_;
  DurableWrites& durable_;
  PrimaryObserver& primaries_;
  const PendingWrites& pending_;
  WriteIntents* intents_;
  const Clock& clock_;
  AccessLog& access_log_;
  UpstreamsFor upstreams_;

  std::mutex mu_;  // guards the state maps and serializes SetConfig
  std::map<std::string, std::unique_ptr<BackendState>> backend_states_;
  std::map<std::string, std::unique_ptr<RouteState>> route_states_;
  std::atomic<std::shared_ptr<const Runtime>> runtime_;
  std::atomic<uint64_t> generation_{0};

  std::atomic<bool> draining_{false};
  std::atomic<int64_t> mirrors_inflight_{0};
  ProxyMetrics m_;
};

}  // namespace ficus::proxy
