#include "api/proxy.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <charconv>
#include <chrono>
#include <functional>
#include <optional>

#include "api/forward.h"
#include "domain/mirror_admission.h"
#include "domain/route_plan.h"
#include "domain/routing.h"
#include "ficus/clock.h"
#include "ficus/http/response_body.h"
#include "service/request_id.h"

namespace ficus::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

// One keep-alive pool per event loop: every loop is one thread, so a
// thread_local pool is a per-loop pool and needs no lock.
thread_local std::unique_ptr<http::Client> tl_pool;

// This loop's batch of write intents (see Proxy::RecordIntent): the requests
// waiting for it to be written wait on `written`, cancelled by the flush.
struct IntentBatch {
  std::shared_ptr<asio::steady_timer> written;
  bool flush_posted = false;
};
thread_local IntentBatch tl_intent_batch;

http::Client& LoopPool(const asio::any_io_executor& ex) {
  if (!tl_pool) tl_pool = std::make_unique<http::Client>(ex);
  return *tl_pool;
}

// The loop's pool, with the tunnel metrics wired on first use.
http::Client& LoopPool(const asio::any_io_executor& ex, Counter* tunnels, Gauge* active) {
  auto& pool = LoopPool(ex);
  if (!pool.has_tunnel_observer()) {
    pool.SetTunnelObserver([tunnels, active](int d) {
      if (d > 0) tunnels->Inc();
      active->Add(d);
    });
  }
  return pool;
}

int64_t ElapsedUs(MonoTime since) {
  return (SystemClock::MonoNow() - since).count();
}

MirrorOutcome OutcomeOf(const http::ClientResult& r) {
  switch (r.error) {
    case http::ClientErrorKind::kNone:
      return MirrorOutcome::kOk;
    case http::ClientErrorKind::kConnect:
      return MirrorOutcome::kConnectError;
    case http::ClientErrorKind::kTimeout:
      return MirrorOutcome::kTimeout;
    case http::ClientErrorKind::kIo:
      return MirrorOutcome::kIoError;
  }
  return MirrorOutcome::kIoError;
}

// Lossless rollback: waits until the sink has persisted the mirrored write
// (see DurableWrites::Persist); returns its replay log seq, 0 when it could not.
asio::awaitable<uint64_t> PersistBeforeAnswer(DurableWrites& sink, const MirrorExchange& x,
                                              bool in_flight) {
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  auto id = std::make_shared<std::atomic<uint64_t>>(0);
  auto fired = std::make_shared<bool>(false);
  sink.Persist(x, in_flight, [ex, timer, id, fired](uint64_t v) {
    id->store(v);
    // Runs on this loop, so only once the handler below is suspended.
    asio::post(ex, [timer, fired] {
      *fired = true;
      timer->cancel();
    });
  });
  while (!*fired) co_await timer->async_wait(kUse);
  co_return id->load();
}

// The address as text; IPv4 without inet_ntop (its printf machinery showed
// in the per-request profile).
std::string AddressText(const asio::ip::address& a) {
  if (!a.is_v4()) return a.to_string();
  const auto bytes = a.to_v4().to_bytes();
  char buf[16];
  char* p = buf;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) *p++ = '.';
    p = std::to_chars(p, buf + sizeof buf, bytes[i]).ptr;
  }
  return {buf, static_cast<std::size_t>(p - buf)};
}

int64_t MonoNowUs() {
  return MonoMicros(SystemClock::MonoNow());
}

// Bodies from this size on (and every chunked body) are streamed to the
// backend when nothing needs them whole; smaller ones are buffered (one
// write to the backend, and a reused pooled connection).
constexpr uint64_t kStreamBodyThreshold = 64UL * 1024;

// The request facts the route plan reads; `with_body`: the body is read.
RequestFacts FactsOf(const http::Request& req, bool with_body) {
  RequestFacts f;
  f.method = req.method;
  f.target = req.target;
  f.path = req.Path();
  f.query = req.Query();
  f.header = [&req](std::string_view n) { return req.headers.Get(n); };
  if (with_body) f.body = req.body;
  return f;
}

const RouteRuntime& RouteRuntimeOf(const Runtime& rt, const Route* route) {
  return route ? rt.routes[static_cast<std::size_t>(route - rt.config->routes.data())]
               : rt.default_route;
}

// Reads a streamed body whole into `out` (bounded by the server's body limit).
asio::awaitable<Status> ReadWholeBody(http::BodyStream& stream, std::string& out) {
  for (;;) {
    auto piece = co_await stream.Read();
    if (!piece) co_return tl::unexpected(piece.error());
    if (piece->empty()) co_return Status{};
    out.append(*piece);
  }
}

// The upstream head of a streamed body: the client's declared length, or
// chunked framing when it sent none.
void AppendStreamedHead(std::string& out, std::string_view method, std::string_view target,
                        const http::Headers& h, std::optional<uint64_t> content_length,
                        std::string_view host) {
  if (content_length) {
    AppendRequestHead(out, method, target, h, static_cast<std::size_t>(*content_length), host);
    return;
  }
  AppendRequestHead(out, method, target, h, 0, host);
  // A write's head ends with the "Content-Length: 0" AppendRequestHead adds
  // (the client's was removed with the hop-by-hop fields): replace it.
  constexpr std::string_view kZeroLength = "\r\nContent-Length: 0\r\n\r\n";
  if (IsWrite(method)) {
    assert(std::string_view(out).ends_with(kZeroLength));
    out.resize(out.size() - (kZeroLength.size() - 2));
  } else {
    out.resize(out.size() - 2);
  }
  out.append("Transfer-Encoding: chunked\r\n\r\n");
}

// The client's answer from the backend's (or the 502/504 envelope); counts
// backend errors.
// A streamed answer (r.response.rest) stays streamed: the client gets the
// bytes as they come, framed by the backend's Content-Length when it sent
// one (else chunked, or close-delimited for HTTP/1.0 clients).
http::Response ResponseFrom(http::ClientResult& r, const std::string& backend, const RoleMetrics& m,
                            bool head_request) {
  http::Response resp;
  if (r.ok()) {
    resp.status = r.response.result_int();
    resp.reason = std::move(r.response.reason);
    resp.headers = std::move(r.response.headers);
    if (r.response.connection_lists_fields) StripResponseFraming(resp.headers);
    resp.body = std::move(r.response.body());
    if (resp.status == 101) {
      resp.headers.Add("Upgrade", r.response.upgrade);  // the tunnel (server.h "Upgrades")
    }
    if (r.response.rest) {
      resp.stream = std::move(r.response.rest);
      if (r.response.length_framed) resp.content_length = r.response.content_length;
    } else if (head_request) {
      resp.content_length = r.response.content_length;  // what a GET would have carried
    }
  } else if (r.client_body_error) {
    // The client's body failed mid-stream; the server answers the client
    // itself (400/413/408) and closes. Not a backend error.
    resp = http::Response::Error(400, r.detail);
  } else if (r.error == http::ClientErrorKind::kTimeout) {
    m.timeouts->Inc();
    resp = http::Response::Error(504,
                                 "gateway timeout: backend " + backend + " did not answer in time");
  } else {
    (r.error == http::ClientErrorKind::kConnect ? m.connect_errors : m.io_errors)->Inc();
    resp = http::Response::Error(
        502, "bad gateway: backend " + backend + " " +
                 (r.error == http::ClientErrorKind::kConnect ? "unreachable" : "failed"));
  }
  return resp;
}

// The protocol an upgrade request asks for ("websocket"), or empty: a GET
// with "Connection: upgrade" (among its tokens) and an Upgrade field.
std::string UpgradeAsked(const http::Request& req) {
  const auto up = req.headers.Get("upgrade");
  if (!up || up->empty() || req.method != "GET" || http::ContainsCrLf(*up)) return {};
  for (auto f : req.headers) {
    if (!http::IEquals(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      const auto comma = v.find(',');
      std::string_view tok = v.substr(0, comma);
      while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
      if (http::IEquals(tok, "upgrade")) return std::string(*up);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  return {};
}

// Reads a streamed answer's rest into `body` while it fits in `max` bytes
// (the copy kept for comparison). True: complete (rest is dropped); false:
// larger, `body` holds what was read and rest continues after it.
asio::awaitable<Result<bool>> ReadForCompare(std::shared_ptr<http::ResponseBody>& rest,
                                             std::string& body, uint64_t max) {
  while (body.size() <= max) {
    auto piece = co_await rest->Read();
    if (!piece) co_return tl::unexpected(piece.error());
    if (piece->empty()) {
      rest.reset();
      co_return true;
    }
    body.append(*piece);
  }
  co_return false;
}

// Per-user read-your-writes across every switch: when a write of this user
// may not have reached the side that would serve the request (a record in
// the replay log towards it, or a copy still in flight), and the other side
// has everything of the user and is up, the other side serves it: primary
// and mirror trade places (a write stays mirrored; a read has no mirror and
// is simply sent to the other side). Writes without a mirror never move
// (the skipped side would never get them). Ends by itself once the user's
// backlog drained.
void ServeWhereTheWritesAre(const Route& route, const RouteRuntime& rr, const http::Request& req,
                            const PendingWrites& sink, RoutePlan& plan) {
  if (plan.cohort_key.empty() || (route.paused ? Mode::kLegacy : route.mode) == Mode::kLegacy) {
    return;
  }
  if (!plan.mirror && IsWrite(req.method)) return;
  const bool on_legacy = plan.primary_role == Role::kLegacy;
  const BackendRuntime* here = on_legacy ? rr.legacy : rr.modern;
  const BackendRuntime* there = on_legacy ? rr.modern : rr.legacy;
  if (here == there || !there->state->up.load(std::memory_order_relaxed)) return;
  if (!sink.PendingTowards(plan.cohort_key, here->target.name, on_legacy)) return;
  if (sink.PendingTowards(plan.cohort_key, there->target.name, !on_legacy)) return;
  const Role other = on_legacy ? Role::kModern : Role::kLegacy;
  if (plan.mirror) {
    std::swap(plan.primary_target, plan.mirror->path);
    plan.mirror->role = plan.primary_role;
    plan.mirror->backend = on_legacy ? route.legacy_backend : route.modern_backend;
  } else {
    std::string target = RewritePath(route, other, req.Path());
    if (const auto q = req.Query(); !q.empty()) {
      target.push_back('?');
      target.append(q);
    }
    plan.primary_target = std::move(target);
  }
  plan.primary_role = other;
}

// The primary's outcome leaves it unknown or unlikely that it applied the
// write: no answer (connect/IO error, timeout) or a retryable failure status.
bool PrimaryOutcomeUnsure(const http::ClientResult& r, unsigned status) {
  if (r.client_body_error) return false;
  return !r.ok() || status >= 500 || status == 408 || status == 429;
}

}  // namespace

struct Proxy::MirrorJob {
  std::shared_ptr<const Runtime> runtime;  // keeps route and backend alive
  const RouteRuntime* route = nullptr;
  const BackendRuntime* backend = nullptr;
  http::ClientTarget target;  // the backend's, connect timeout capped by the mirror timeout
  uint32_t timeout_ms = 1000;
  uint64_t max_response_bytes = 0;
  std::string head;
  std::shared_ptr<const std::string> body;
  bool want_bodies = false;
  MirrorExchange exchange;
  MirrorResult result;
  bool primary_done = false;
  bool mirror_done = false;
  uint64_t intent_id = 0;                // settled once both sides are done
  asio::steady_timer* waiter = nullptr;  // a draining handler waiting for this mirror
};

namespace {
NullMirrorSink g_no_mirrors;
NoDurableWrites g_no_durable;
NoPrimaryObserver g_no_primaries;
const NoPendingWrites g_no_pending;
}  // namespace

Proxy::Proxy(MetricsRegistry& metrics, const ProxyHooks& hooks, const Clock& clock,
             AccessLog& access_log, UpstreamsFor upstreams)
    : metrics_(metrics),
      mirrors_(hooks.mirrors ? *hooks.mirrors : g_no_mirrors),
      durable_(hooks.durable ? *hooks.durable : g_no_durable),
      primaries_(hooks.primaries ? *hooks.primaries : g_no_primaries),
      pending_(hooks.pending ? *hooks.pending : g_no_pending),
      intents_(hooks.intents),
      clock_(clock),
      access_log_(access_log),
      upstreams_(std::move(upstreams)) {
  FICUS_REGISTER_METRICS(ALL_PROXY_METRICS, m_, metrics_, "ficus_proxy_");
}

http::Exchanger& Proxy::UpstreamsOf(const asio::any_io_executor& ex) const {
  if (upstreams_) return upstreams_(ex);
  return LoopPool(ex, m_.tunnels_total, m_.tunnels_active);
}

Proxy::~Proxy() = default;

std::shared_ptr<const Runtime> Proxy::runtime() const {
  return runtime_.load(std::memory_order_acquire);
}

std::optional<http::ClientTarget> Proxy::UpTarget(const std::string& backend) const {
  const auto rt = runtime();
  auto it = rt->backends.find(backend);
  if (it == rt->backends.end() || !it->second.state->up.load()) return std::nullopt;
  return it->second.target;
}

BackendState* Proxy::BackendStateFor(const std::string& name) {
  auto& slot = backend_states_[name];
  if (!slot) {
    slot = std::make_unique<BackendState>();
    slot->up_gauge = &metrics_.GetGauge(
        "ficus_proxy_backend_up",
        "1 when the backend's active health check passes (or none is configured).",
        {{"backend", name}});
    slot->up_gauge->Set(1);
  }
  return slot.get();
}

RouteState* Proxy::RouteStateFor(const std::string& name) {
  auto& slot = route_states_[name];
  if (!slot) {
    slot = std::make_unique<RouteState>();
    slot->mirror_inflight_gauge =
        &metrics_.GetGauge("ficus_proxy_mirror_inflight",
                           "Mirrored requests currently in flight, per route.", {{"route", name}});
  }
  return slot.get();
}

void Proxy::FillRouteMetrics(RouteRuntime& rr) {
  static constexpr const char* kClass[] = {"5xx", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int role = 0; role < 2; ++role) {
    const BackendRuntime* b = role == 0 ? rr.legacy : rr.modern;
    const Labels base = {
        {"route", rr.name}, {"backend", b->target.name}, {"role", role == 0 ? "legacy" : "modern"}};
    auto& m = rr.metrics[role];
    for (int c = 0; c < 6; ++c) {
      Labels l = base;
      l.emplace_back("class", kClass[c]);
      m.by_class[c] = &metrics_.GetCounter(
          "ficus_proxy_requests_total",
          "Requests answered to clients, by route, serving backend and status class.", l);
    }
    auto err = [&](const char* kind) {
      Labels l = base;
      l.emplace_back("kind", kind);
      return &metrics_.GetCounter("ficus_proxy_backend_errors_total",
                                  "Primary requests that failed at the backend (502/504 sent).", l);
    };
    m.connect_errors = err("connect");
    m.timeouts = err("timeout");
    m.io_errors = err("io");
    m.latency = &metrics_.GetHistogram("ficus_proxy_request_duration_seconds",
                                       "Time from request parsed to response ready.", base);
  }
  for (int o = 0; o < 6; ++o) {
    rr.mirror_outcome[o] = &metrics_.GetCounter(
        "ficus_proxy_mirror_total",
        "Mirrored requests by outcome (ok, overflow, unhealthy, connect_error, timeout, io_error).",
        {{"route", rr.name}, {"outcome", MirrorOutcomeName(static_cast<MirrorOutcome>(o))}});
  }
  rr.mirror_latency =
      &metrics_.GetHistogram("ficus_proxy_mirror_duration_seconds",
                             "Duration of mirrored requests that were sent.", {{"route", rr.name}});
}

Status Proxy::SetConfig(const std::shared_ptr<const Config>& config) {
  std::lock_guard lock(mu_);
  auto rt = std::make_shared<Runtime>();
  rt->config = config;
  for (const auto& [name, b] : config->backends) {
    auto target = http::MakeClientTarget(name, b.address.host, b.address.port);
    if (!target) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "backends." + name + ".url: " + target.error().message);
    }
    BackendRuntime br;
    br.config = &b;
    br.target = std::move(*target);
    br.target.connect_timeout_ms = b.connect_timeout_ms;
    br.target.response_timeout_ms = b.response_timeout_ms;
    br.target.idle_timeout_ms = b.idle_timeout_ms;
    br.target.send_timeout_ms = b.send_timeout_ms;
    br.target.total_timeout_ms = b.total_timeout_ms;
    br.target.max_idle = b.max_idle;
    br.state = BackendStateFor(name);
    rt->backends.emplace(name, std::move(br));
  }
  auto backend = [&](const std::string& name) -> const BackendRuntime* {
    auto it = rt->backends.find(name);
    return it == rt->backends.end() ? nullptr : &it->second;
  };
  rt->routes.reserve(config->routes.size());
  for (const auto& r : config->routes) {
    RouteRuntime rr;
    rr.route = &r;
    rr.name = r.name;
    rr.cohort = r.cohort.empty() ? nullptr : config->FindCohort(r.cohort);
    rr.state = RouteStateFor(r.name);
    rr.legacy = backend(r.legacy_backend);
    rr.modern = backend(r.modern_backend);
    assert(rr.legacy && "validated by ParseConfig");
    if (!rr.modern) rr.modern = rr.legacy;  // mode legacy without a modern backend
    if (r.timeouts.any()) {                 // this route's own timeouts, on the same pools
      auto with_route_timeouts = [&](const BackendRuntime* b) {
        BackendRuntime copy = *b;
        const Backend t = WithTimeouts(*b->config, r.timeouts);
        copy.target.connect_timeout_ms = t.connect_timeout_ms;
        copy.target.response_timeout_ms = t.response_timeout_ms;
        copy.target.idle_timeout_ms = t.idle_timeout_ms;
        copy.target.send_timeout_ms = t.send_timeout_ms;
        copy.target.total_timeout_ms = t.total_timeout_ms;
        return &rt->route_backends.emplace_back(std::move(copy));
      };
      const bool same = rr.modern == rr.legacy;
      rr.legacy = with_route_timeouts(rr.legacy);
      rr.modern = same ? rr.legacy : with_route_timeouts(rr.modern);
    }
    FillRouteMetrics(rr);
    rt->routes.push_back(std::move(rr));
  }
  auto& d = rt->default_route;
  d.name = "_default";
  d.state = RouteStateFor(d.name);
  d.legacy = d.modern = backend(config->default_backend);
  FillRouteMetrics(d);
  rt->generation = ++generation_;
  m_.config_generation->Set(static_cast<int64_t>(rt->generation));
  runtime_.store(std::move(rt), std::memory_order_release);
  return {};
}

bool Proxy::StreamBody(const http::Request& head) {
  if (!head.headers.Contains("transfer-encoding")) {
    const auto cl = head.headers.Get("content-length").value_or("0");
    uint64_t length = 0;
    std::from_chars(cl.data(), cl.data() + cl.size(), length);  // digits checked by the parser
    if (length < kStreamBodyThreshold) return false;
  }
  const std::shared_ptr<const Runtime> rt = runtime_.load(std::memory_order_acquire);
  const Route* route = Match(*rt->config, head.method, head.Path());
  return !PlanRoute(route, RouteRuntimeOf(*rt, route).cohort, FactsOf(head, false),
                    mirrors_.WantsBodies())
              .needs_whole_body;
}

// One request on its way through Handle(): what each step decides and the
// next one reads. Lives in Handle()'s coroutine frame.
struct Proxy::Call {
  Call(http::Request& r, std::shared_ptr<const Runtime> runtime, asio::any_io_executor executor)
      : req(r), rt(std::move(runtime)), cfg(*rt->config), ex(std::move(executor)) {}

  http::Request& req;
  const std::shared_ptr<const Runtime> rt;
  const Config& cfg;
  const asio::any_io_executor ex;
  const MonoTime t0 = SystemClock::MonoNow();
  const Route* route = nullptr;  // nullptr: the default backend, untouched
  const RouteRuntime* rr = nullptr;
  bool want_bodies = false;
  RoutePlan plan;
  const BackendRuntime* primary = nullptr;
  const BackendRuntime* mirror_backend = nullptr;  // nullptr: not mirrored
  std::string upgrade;                             // the protocol asked for, or empty
  int64_t ts = 0;                                  // X-Ficus-Timestamp of a routed write
  std::string client_ip;
  std::string request_id;
  std::shared_ptr<const std::string> shared_body;  // the body, shared with the mirror
  std::string_view body;
  std::string head;                  // the primary's request head
  const char* mirror_note = "none";  // for the access log
  std::shared_ptr<MirrorJob> job;    // the copy, once dispatched
  // A dropped copy the sink must persist before the answer (heap: rare, and
  // the coroutine frame stays small).
  std::unique_ptr<MirrorExchange> dropped_durable;
  uint64_t intent_id = 0;  // the write's intent (WriteIntents), 0: none
  http::ClientResult result;
  bool primary_too_large = false;
};

asio::awaitable<http::Response> Proxy::Handle(http::Request& req) {
  auto ex = co_await asio::this_coro::executor;  // named first: GCC 12 (STYLE)
  Call c(req, runtime_.load(std::memory_order_acquire), ex);
  Plan(c);
  if (req.body_stream && c.plan.needs_whole_body) {
    if (auto bad = co_await ReadWholeBodyAndReplan(c)) co_return std::move(*bad);
  }
  FollowTheWrites(c);
  if (auto refused = Refuse(c)) co_return std::move(*refused);
  PrepareUpstream(c);
  if (intents_ && c.ts != 0 && c.mirror_backend && c.cfg.replay.intents) co_await RecordIntent(c);
  co_await SendPrimary(c);  // the mirror goes out once the primary request is on the wire
  if (c.job && c.want_bodies && c.result.ok() && c.result.response.rest) {
    co_await KeepAnswerForCompare(c);
  } else if (c.job && c.want_bodies && c.result.ok()) {
    c.primary_too_large = c.result.response.body_.size() > c.route->compare.max_bytes;
  }
  http::Response resp = Answer(c);
  if (c.mirror_backend) co_await KeepWriteDurable(c, resp.status);
  FinishPrimary(c, resp);
  if (!c.job && c.intent_id != 0) SettleIntent(c.intent_id, c.ex);  // copy dropped or never sent
  if (c.job && !c.job->mirror_done && draining_.load(std::memory_order_relaxed)) {
    co_await WaitForMirror(c);  // shutting down: the drain does not cut the mirror
  }
  co_return resp;
}

// Route match and plan (domain/route_plan.h), from the head alone when the
// body is still streaming.
void Proxy::Plan(Call& c) const {
  c.route = Match(c.cfg, c.req.method, c.req.Path());
  c.rr = &RouteRuntimeOf(*c.rt, c.route);
  c.want_bodies = mirrors_.WantsBodies();
  c.plan = PlanRoute(c.route, c.rr->cohort, FactsOf(c.req, !c.req.body_stream), c.want_bodies);
}

// A streamed body (see StreamBody) is read whole after all when this
// runtime needs it (e.g. a reload since the head was parsed). An answer: the
// body could not be read.
asio::awaitable<std::optional<http::Response>> Proxy::ReadWholeBodyAndReplan(Call& c) const {
  auto whole = co_await ReadWholeBody(*c.req.body_stream, c.req.body);
  if (!whole) co_return http::Response::Error(400, whole.error().message);
  c.req.body_stream = nullptr;
  c.plan = PlanRoute(c.route, c.rr->cohort, FactsOf(c.req, true), c.want_bodies);
  co_return std::nullopt;
}

// Read-your-writes (ServeWhereTheWritesAre) may swap the sides; then the
// backends the plan names.
void Proxy::FollowTheWrites(Call& c) const {
  if (c.route) ServeWhereTheWritesAre(*c.route, *c.rr, c.req, pending_, c.plan);
  const auto& plan = c.plan;
  c.primary = plan.primary_role == Role::kLegacy ? c.rr->legacy : c.rr->modern;
  c.mirror_backend =
      plan.mirror ? (plan.mirror->role == Role::kLegacy ? c.rr->legacy : c.rr->modern) : nullptr;
}

// Refused before anything is sent: a write whose copy for legacy could not
// be kept durably (503; lossless rollback, see DurableWrites::RefuseWrite),
// an upgrade on a route that forbids it (403).
std::optional<http::Response> Proxy::Refuse(Call& c) {
  const auto& mirror = c.plan.mirror;
  if (c.route && mirror && mirror->role == Role::kLegacy && IsWrite(c.req.method)) {
    if (auto why = durable_.RefuseWrite(c.rr->name)) {
      auto refused = http::Response::Error(503, *why);
      refused.headers.Set("Retry-After", "5");
      return refused;
    }
  }
  // Upgrade (WebSocket and others): the hop-by-hop Upgrade is forwarded on
  // purpose; a 101 turns the exchange into a tunnel (UpstreamTunnel).
  c.upgrade = UpgradeAsked(c.req);
  if (!c.upgrade.empty() && c.route && !c.route->upgrade) {
    m_.upgrades_refused_total->Inc();
    return http::Response::Error(403, "forbidden: route " + c.rr->name + " refuses upgrades");
  }
  return std::nullopt;
}

// Headers shared by primary and mirror (forward.h), the write's timestamp,
// the request id, and the primary's request head.
void Proxy::PrepareUpstream(Call& c) const {
  auto& req = c.req;
  c.ts = c.route && IsWrite(req.method) ? UnixMicros(clock_.Wall()) : 0;
  char generated[kRequestIdLength];
  std::string_view generated_id;
  if (auto cur = req.headers.Get(kRequestIdHeader);
      !cur || !ValidRequestId(*cur) || req.headers.Count(kRequestIdHeader) != 1) {
    generated_id = NewRequestId(generated);
  }
  c.client_ip = AddressText(req.remote.address());
  c.request_id = PrepareUpstreamHeaders(
      req.headers, ForwardFacts{c.client_ip, generated_id, c.ts, &c.cfg.forwarded});
  c.body = req.body;
  if (c.mirror_backend) {
    c.shared_body = std::make_shared<const std::string>(std::move(req.body));
    c.body = *c.shared_body;
  }
  const std::string& target = c.plan.primary_target;
  c.head.reserve(256 + target.size());
  if (req.body_stream) {
    assert(!c.mirror_backend && "PlanRoute(): a mirrored body is read whole");
    AppendStreamedHead(c.head, req.method, target, req.headers, req.body_stream->content_length(),
                       c.primary->target.host);
  } else {
    AppendRequestHead(c.head, req.method, target, req.headers, c.body.size(),
                      c.primary->target.host);
  }
  if (!c.upgrade.empty()) {
    c.head.insert(c.head.size() - 2, "Upgrade: " + c.upgrade + "\r\nConnection: upgrade\r\n");
  }
  if (c.mirror_backend) c.mirror_note = "pending";
}

// The write's intent, before it leaves towards either side: added to this
// loop's batch, which one posted flush writes (one write(2), no fsync) for
// every request of the turn; the handler goes on once it is written.
asio::awaitable<void> Proxy::RecordIntent(Call& c) {
  const bool legacy_primary = c.plan.primary_role == Role::kLegacy;
  WriteIntent w;
  w.route = c.rr->name;
  w.user_key = c.plan.cohort_key;
  w.method = c.req.method;
  w.legacy_backend = (legacy_primary ? c.primary : c.mirror_backend)->target.name;
  w.legacy_target = legacy_primary ? c.plan.primary_target : c.plan.mirror->path;
  w.modern_backend = (legacy_primary ? c.mirror_backend : c.primary)->target.name;
  w.modern_target = legacy_primary ? c.plan.mirror->path : c.plan.primary_target;
  w.headers.reserve(24);
  for (auto f : c.req.headers) w.headers.emplace_back(f.name, f.value);
  w.body = c.body;
  c.intent_id = intents_->Add(w);
  auto& batch = tl_intent_batch;
  if (!batch.written) {
    batch.written =
        std::make_shared<asio::steady_timer>(c.ex, asio::steady_timer::time_point::max());
  }
  auto written = batch.written;
  ScheduleIntentFlush(c.ex);
  co_await written->async_wait(kUse);
}

void Proxy::SettleIntent(uint64_t id, const asio::any_io_executor& ex) {
  intents_->Settle(id);
  ScheduleIntentFlush(ex);
}

void Proxy::ScheduleIntentFlush(const asio::any_io_executor& ex) {
  auto& batch = tl_intent_batch;
  if (batch.flush_posted) return;
  batch.flush_posted = true;
  asio::post(ex, [this] {
    auto& b = tl_intent_batch;
    b.flush_posted = false;
    intents_->Flush();
    if (auto written = std::move(b.written)) written->cancel();
  });
}

// The primary exchange on this loop's keep-alive pool (streamed bodies on a
// new connection); DispatchMirror runs once its request is on the wire.
asio::awaitable<void> Proxy::SendPrimary(Call& c) {
  auto& req = c.req;
  const uint64_t max_response = c.cfg.limits.max_response_bytes;
  if (req.body_stream) {
    const bool chunked = !req.body_stream->content_length().has_value();
    c.result = co_await UpstreamsOf(c.ex).ExchangeStreamed(
        c.primary->target, c.head, *req.body_stream, chunked, req.method == "HEAD", max_response,
        /*stream=*/true);
    co_return;
  }
  std::function<void()> on_sent;
  if (c.mirror_backend) on_sent = [this, &c] { DispatchMirror(c); };
  c.result =
      co_await UpstreamsOf(c.ex).Exchange(c.primary->target, c.head, c.body, req.method == "HEAD",
                                          max_response, 0, c.mirror_backend ? &on_sent : nullptr,
                                          /*stream=*/true,
                                          /*upgrade=*/!c.upgrade.empty());
}

// The copy, per mirror admission (domain/mirror_admission.h): dispatched as
// a detached coroutine with its own timeout, or dropped and reported.
void Proxy::DispatchMirror(Call& c) {
  const auto& policy = c.route->mirror;
  auto& inflight = c.rr->state->mirror_inflight;
  const auto& target = *c.mirror_backend->state;
  if (auto why = AdmitMirror({target.up.load(std::memory_order_relaxed),
                              target.mirror_breaker.Open(MonoNowUs()),
                              inflight.load(std::memory_order_relaxed), policy.max_inflight})) {
    c.rr->mirror_outcome[static_cast<int>(*why)]->Inc();
    MirrorExchange x;
    FillExchange(c, x);
    mirrors_.OnDropped(x, *why);
    if (x.durable_before_answer) c.dropped_durable = std::make_unique<MirrorExchange>(std::move(x));
    c.mirror_note = MirrorOutcomeName(*why);
    return;
  }
  inflight.fetch_add(1, std::memory_order_relaxed);
  c.rr->state->mirror_inflight_gauge->Add(1);
  mirrors_inflight_.fetch_add(1, std::memory_order_relaxed);
  auto job = std::make_shared<MirrorJob>();
  job->runtime = c.rt;
  job->route = c.rr;
  job->backend = c.mirror_backend;
  job->target = c.mirror_backend->target;
  job->target.connect_timeout_ms = std::min(job->target.connect_timeout_ms, policy.timeout_ms);
  job->timeout_ms = policy.timeout_ms;
  job->max_response_bytes = c.cfg.limits.max_response_bytes;
  job->head.reserve(c.head.size() + 64);
  AppendRequestHead(job->head, c.req.method, c.plan.mirror->path, c.req.headers, c.body.size(),
                    c.mirror_backend->target.host);
  job->head.insert(job->head.size() - 2, "X-Ficus-Mirror: 1\r\n");
  job->body = c.shared_body;
  job->want_bodies = c.want_bodies;
  job->intent_id = c.intent_id;
  FillExchange(c, job->exchange);
  job->exchange.dispatched_us = MonoNowUs();
  mirrors_.OnDispatched(job->exchange);
  asio::co_spawn(c.ex, RunMirror(job), asio::detached);
  c.job = std::move(job);
  c.mirror_note = "dispatched";
}

void Proxy::FillExchange(const Call& c, MirrorExchange& x) const {
  x.route = c.rr->name;
  x.mode = c.route->mode;
  x.primary_backend = c.primary->target.name;
  x.mirror_backend = c.mirror_backend->target.name;
  x.request_id = c.request_id;
  x.cohort_key = c.plan.cohort_key;
  x.method = c.req.method;
  x.target = c.plan.mirror->path;
  x.timestamp_us = c.ts;
  x.write = c.ts != 0;
  x.mirror_to_legacy = c.plan.mirror->role == Role::kLegacy;
  if (c.want_bodies) {
    for (auto f : c.req.headers) x.headers.emplace_back(f.name, f.value);
    x.body = *c.shared_body;
  }
  x.durable_before_answer = durable_.NeedsDurableBeforeAnswer(x);
}

// A compared answer is kept up to compare.max_bytes while the rest streams.
asio::awaitable<void> Proxy::KeepAnswerForCompare(Call& c) const {
  auto& r = c.result;
  auto whole =
      co_await ReadForCompare(r.response.rest, r.response.body_, c.route->compare.max_bytes);
  if (!whole) {
    r.error = whole.error().code == ErrorCode::kTimeout ? http::ClientErrorKind::kTimeout
                                                        : http::ClientErrorKind::kIo;
    r.detail = whole.error().message;
  } else {
    c.primary_too_large = !*whole;
  }
}

// The client's answer (or the 502/504 envelope), reported to the observer.
http::Response Proxy::Answer(Call& c) {
  auto& r = c.result;
  auto& m = c.rr->metrics[c.plan.primary_role == Role::kLegacy ? 0 : 1];
  http::Response resp = ResponseFrom(r, c.primary->target.name, m, c.req.method == "HEAD");
  resp.headers.Remove(kRequestIdHeader);
  resp.headers.AddParsed(kRequestIdHeader, c.request_id);  // valid (PrepareUpstreamHeaders)
  if (c.route && !r.client_body_error) {
    primaries_.OnPrimary(PrimaryObservation{c.rr->name, c.plan.primary_role == Role::kModern,
                                            r.ok() ? static_cast<int>(resp.status) : 0,
                                            r.error == http::ClientErrorKind::kTimeout,
                                            ElapsedUs(c.t0)});
  }
  return resp;
}

// Before the client hears back (lossless rollback, DurableWrites):
//  - a write that reached either side reaches both: when its copy went out
//    (or was kept for the replayer) but the primary's outcome is unknown or
//    failed, the write is also put in the replay log towards the primary,
//    with the same X-Ficus-Timestamp (a repeat is a no-op under per-key
//    last-write-wins);
//  - a write the sink wants durable is persisted, unless its mirror already
//    landed (2xx). A copy still in flight gets replay.persist_grace_ms to
//    land first: cheaper than an fsync'd record in CPU and usually in latency
//    too (bench/controlplane).
asio::awaitable<void> Proxy::KeepWriteDurable(Call& c, unsigned status) {
  if (c.ts != 0 && c.mirror_backend && std::string_view(c.mirror_note) != "pending" &&
      PrimaryOutcomeUnsure(c.result, status)) {
    auto back = std::make_unique<MirrorExchange>();
    FillExchange(c, *back);
    back->mirror_backend = c.primary->target.name;
    back->target = c.plan.primary_target;
    back->mirror_to_legacy = c.plan.primary_role == Role::kLegacy;
    back->durable_before_answer = true;
    (void)co_await PersistBeforeAnswer(durable_, *back, false);
  }
  auto& job = c.job;
  if (job && job->exchange.durable_before_answer && !job->mirror_done &&
      c.cfg.replay.persist_grace_ms > 0) {
    asio::steady_timer grace(c.ex);
    grace.expires_after(std::chrono::milliseconds(c.cfg.replay.persist_grace_ms));
    job->waiter = &grace;
    co_await grace.async_wait(kUse);
    job->waiter = nullptr;
    if (job->mirror_done) m_.persist_graced_total->Inc();
  }
  if (job && job->exchange.durable_before_answer &&
      !(job->mirror_done && job->result.outcome == MirrorOutcome::kOk &&
        job->result.status / 100 == 2)) {
    job->exchange.replay_seq =
        co_await PersistBeforeAnswer(durable_, job->exchange, !job->mirror_done);
  } else if (!job && c.dropped_durable) {
    (void)co_await PersistBeforeAnswer(durable_, *c.dropped_durable, false);
  }
}

// The primary's part is done: the mirror may report; metrics, access log.
void Proxy::FinishPrimary(Call& c, const http::Response& resp) {
  if (c.job) {
    auto& job = *c.job;
    job.primary_done = true;
    job.exchange.primary_status = c.result.ok() ? static_cast<int>(resp.status) : 0;
    job.exchange.primary_too_large = c.primary_too_large;
    if (c.want_bodies && !c.primary_too_large) job.exchange.primary_body = resp.body;
    if (job.mirror_done) FinishMirror(job, c.ex);
  }
  const int64_t latency_us = ElapsedUs(c.t0);
  auto& m = c.rr->metrics[c.plan.primary_role == Role::kLegacy ? 0 : 1];
  m.by_class[resp.status / 100 < 6 ? resp.status / 100 : 5]->Inc();
  m.latency->ObserveUs(latency_us);
  m_.handled_total->Inc();
  if (access_log_.enabled()) {
    const auto& r = c.result;
    LogAccess(c.req, AccessEntry{c.request_id, c.client_ip, c.rr->name, c.primary->target.name,
                                 c.plan.primary_target,
                                 c.route ? ModeName(c.route->paused ? Mode::kLegacy : c.route->mode)
                                         : std::string_view("default"),
                                 r.ok() ? std::string_view() : std::string_view(r.detail),
                                 c.mirror_note, c.plan.cohort, resp.status, latency_us});
  }
}

// Shutting down: give the mirror its time so the drain does not cut it.
asio::awaitable<void> Proxy::WaitForMirror(Call& c) {
  asio::steady_timer t(c.ex);
  t.expires_after(std::chrono::milliseconds(c.job->timeout_ms + c.job->target.connect_timeout_ms));
  c.job->waiter = &t;
  co_await t.async_wait(kUse);
  c.job->waiter = nullptr;
}

void Proxy::LogAccess(const http::Request& req, const AccessEntry& e) {
  std::string line;
  line.reserve(320);
  line += "{\"ts_us\":";
  line += std::to_string(UnixMicros(clock_.Wall()));
  line += ",\"id\":";
  AppendJsonString(line, e.request_id);
  line += ",\"client\":";
  AppendJsonString(line, e.client_ip);
  line += ",\"method\":";
  AppendJsonString(line, req.method);
  line += ",\"target\":";
  AppendJsonString(line, req.target);
  line += ",\"route\":";
  AppendJsonString(line, e.route);
  line += ",\"backend\":";
  AppendJsonString(line, e.backend);
  line += ",\"upstream_target\":";
  AppendJsonString(line, e.upstream_target);
  line += ",\"mode\":\"";
  line += e.mode;
  line += "\",\"cohort\":\"";
  line += CohortStateName(e.cohort);
  line += "\",\"status\":";
  line += std::to_string(e.status);
  line += ",\"latency_us\":";
  line += std::to_string(e.latency_us);
  if (!e.upstream_error.empty()) {
    line += ",\"upstream_error\":";
    AppendJsonString(line, e.upstream_error);
  }
  line += ",\"mirror\":\"";
  line += e.mirror;
  line += "\"}";
  access_log_.Write(line);
}

asio::awaitable<void> Proxy::RunMirror(std::shared_ptr<MirrorJob> job) {
  auto ex = co_await asio::this_coro::executor;
  const MonoTime t0 = SystemClock::MonoNow();
  auto r = co_await UpstreamsOf(ex).Exchange(job->target, job->head, *job->body, false,
                                             job->max_response_bytes, job->timeout_ms, nullptr,
                                             false, false);
  const auto outcome = OutcomeOf(r);
  job->backend->state->mirror_breaker.Note(outcome, MonoNowUs());
  job->result.outcome = outcome;
  job->result.latency_us = ElapsedUs(t0);
  if (r.ok()) {
    job->result.status = static_cast<int>(r.response.result_int());
    if (job->want_bodies) job->result.body = std::move(r.response.body());
  }
  const auto* rr = job->route;
  rr->mirror_outcome[static_cast<int>(outcome)]->Inc();
  rr->mirror_latency->ObserveUs(job->result.latency_us);
  rr->state->mirror_inflight.fetch_sub(1, std::memory_order_relaxed);
  rr->state->mirror_inflight_gauge->Add(-1);
  mirrors_inflight_.fetch_sub(1, std::memory_order_relaxed);
  if (access_log_.enabled()) {
    std::string line;
    line.reserve(256);
    line += "{\"ts_us\":";
    line += std::to_string(UnixMicros(clock_.Wall()));
    line += ",\"kind\":\"mirror\",\"id\":";
    AppendJsonString(line, job->exchange.request_id);
    line += ",\"route\":";
    AppendJsonString(line, rr->name);
    line += ",\"backend\":";
    AppendJsonString(line, job->backend->target.name);
    line += ",\"outcome\":\"";
    line += MirrorOutcomeName(outcome);
    line += "\",\"status\":";
    line += std::to_string(job->result.status);
    line += ",\"latency_us\":";
    line += std::to_string(job->result.latency_us);
    if (!r.ok()) {
      line += ",\"error\":";
      AppendJsonString(line, r.detail);
    }
    line += "}";
    access_log_.Write(line);
  }
  job->mirror_done = true;
  if (job->waiter) job->waiter->cancel();
  if (job->primary_done) FinishMirror(*job, ex);
}

// Both sides are done: the sink compares and hands what did not land to the replay log;
// then the write's intent is settled (every side has it or its record).
void Proxy::FinishMirror(MirrorJob& job, const asio::any_io_executor& ex) {
  mirrors_.OnCompleted(job.exchange, job.result);
  if (job.intent_id != 0) SettleIntent(job.intent_id, ex);
}

}  // namespace ficus::proxy
