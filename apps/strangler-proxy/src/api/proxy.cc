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
#include "ficus/http/response_body.h"

namespace ficus::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);

// One keep-alive pool per event loop: every loop is one thread, so a
// thread_local pool is a per-loop pool and needs no lock.
thread_local std::unique_ptr<UpstreamPool> tl_pool;

UpstreamPool& LoopPool(const asio::any_io_executor& ex) {
  if (!tl_pool) tl_pool = std::make_unique<UpstreamPool>(ex);
  return *tl_pool;
}

// The loop's pool, with the tunnel metrics wired on first use.
UpstreamPool& LoopPool(const asio::any_io_executor& ex, Counter* tunnels, Gauge* active) {
  auto& pool = LoopPool(ex);
  if (!pool.has_tunnel_observer()) {
    pool.SetTunnelObserver([tunnels, active](int d) {
      if (d > 0) tunnels->Inc();
      active->Add(d);
    });
  }
  return pool;
}

int64_t ElapsedUs(SteadyClock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - since).count();
}

Result<asio::ip::address> ResolveHost(const std::string& host) {
  if (host == "localhost") return asio::ip::make_address("127.0.0.1");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) return addr;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot resolve host '" + host + "'");
  }
  return results.begin()->endpoint().address();
}

MirrorOutcome OutcomeOf(const UpstreamResult& r) {
  switch (r.error) {
    case UpstreamErrorKind::kNone:
      return MirrorOutcome::kOk;
    case UpstreamErrorKind::kConnect:
      return MirrorOutcome::kConnectError;
    case UpstreamErrorKind::kTimeout:
      return MirrorOutcome::kTimeout;
    case UpstreamErrorKind::kIo:
      return MirrorOutcome::kIoError;
  }
  return MirrorOutcome::kIoError;
}

// Lossless rollback: waits until the sink has persisted the mirrored write
// (see MirrorSink::Persist); returns its journal id, 0 when it could not.
asio::awaitable<uint64_t> PersistBeforeAnswer(MirrorSink& sink, const MirrorExchange& x,
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

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
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
http::Response ResponseFrom(UpstreamResult& r, const std::string& backend, const RoleMetrics& m,
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
  } else if (r.error == UpstreamErrorKind::kTimeout) {
    m.timeouts->Inc();
    resp = http::Response::Error(504,
                                 "gateway timeout: backend " + backend + " did not answer in time");
  } else {
    (r.error == UpstreamErrorKind::kConnect ? m.connect_errors : m.io_errors)->Inc();
    resp = http::Response::Error(
        502, "bad gateway: backend " + backend + " " +
                 (r.error == UpstreamErrorKind::kConnect ? "unreachable" : "failed"));
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
                            const MirrorSink& sink, RoutePlan& plan) {
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
bool PrimaryOutcomeUnsure(const UpstreamResult& r, unsigned status) {
  if (r.client_body_error) return false;
  return !r.ok() || status >= 500 || status == 408 || status == 429;
}

}  // namespace

struct Proxy::MirrorJob {
  std::shared_ptr<const Runtime> runtime;  // keeps route and backend alive
  const RouteRuntime* route = nullptr;
  const BackendRuntime* backend = nullptr;
  UpstreamTarget target;  // the backend's, connect timeout capped by the mirror timeout
  uint32_t timeout_ms = 1000;
  uint64_t max_response_bytes = 0;
  std::string head;
  std::shared_ptr<const std::string> body;
  bool want_bodies = false;
  MirrorExchange exchange;
  MirrorResult result;
  bool primary_done = false;
  bool mirror_done = false;
  asio::steady_timer* waiter = nullptr;  // a draining handler waiting for this mirror
};

Proxy::Proxy(MetricsRegistry& metrics, MirrorSink& sink, const Clock& clock, AccessLog& access_log)
    : metrics_(metrics), sink_(sink), clock_(clock), access_log_(access_log) {}

Proxy::~Proxy() = default;

std::shared_ptr<const Runtime> Proxy::runtime() const {
  return runtime_.load(std::memory_order_acquire);
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
    auto addr = ResolveHost(b.address.host);
    if (!addr) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "backends." + name + ".url: " + addr.error().message);
    }
    BackendRuntime br;
    br.config = &b;
    br.target.name = name;
    br.target.endpoint = tcp::endpoint(*addr, b.address.port);
    br.target.key = name + "@" + addr->to_string() + ":" + std::to_string(b.address.port);
    br.target.connect_timeout_ms = b.connect_timeout_ms;
    br.target.response_timeout_ms = b.response_timeout_ms;
    br.target.idle_timeout_ms = b.idle_timeout_ms;
    br.target.send_timeout_ms = b.send_timeout_ms;
    br.target.total_timeout_ms = b.total_timeout_ms;
    br.target.max_idle = b.max_idle;
    br.target.host = b.address.ToString();
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
  metrics_.GetGauge("ficus_proxy_config_generation", "Config generation in force (1 = first load).")
      .Set(static_cast<int64_t>(rt->generation));
  if (!requests_total_) {
    requests_total_ = &metrics_.GetCounter("ficus_proxy_handled_total", "Requests handled.");
    upgrades_refused_ = &metrics_.GetCounter("ficus_proxy_upgrades_refused_total",
                                             "Upgrade requests refused (403) by route config.");
    tunnels_total_ =
        &metrics_.GetCounter("ficus_proxy_tunnels_total", "Upgrade tunnels opened (101 relayed).");
    tunnels_active_ = &metrics_.GetGauge("ficus_proxy_tunnels_active", "Upgrade tunnels open now.");
    persist_graced_ = &metrics_.GetCounter(
        "ficus_proxy_persist_graced_total",
        "Writes whose copy landed within replay.persist_grace_ms, so no replay record was "
        "written before the answer.");
  }
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
                    sink_.WantsBodies())
              .needs_whole_body;
}

asio::awaitable<http::Response> Proxy::Handle(http::Request& req) {
  const auto t0 = SteadyClock::now();
  auto ex = co_await asio::this_coro::executor;
  const std::shared_ptr<const Runtime> rt = runtime_.load(std::memory_order_acquire);
  const Config& cfg = *rt->config;
  const Route* route = Match(cfg, req.method, req.Path());
  const RouteRuntime* rr = &RouteRuntimeOf(*rt, route);
  const bool want_bodies = sink_.WantsBodies();
  RoutePlan plan = PlanRoute(route, rr->cohort, FactsOf(req, !req.body_stream), want_bodies);
  // A streamed body (see StreamBody) is read whole after all when this
  // runtime needs it (e.g. a reload since the head was parsed).
  if (req.body_stream && plan.needs_whole_body) {
    auto whole = co_await ReadWholeBody(*req.body_stream, req.body);
    if (!whole) co_return http::Response::Error(400, whole.error().message);
    req.body_stream = nullptr;
    plan = PlanRoute(route, rr->cohort, FactsOf(req, true), want_bodies);
  }
  if (route) ServeWhereTheWritesAre(*route, *rr, req, sink_, plan);
  const CohortState cohort = plan.cohort;
  const std::string& cohort_key = plan.cohort_key;
  const Role primary_role = plan.primary_role;
  const std::string& primary_target = plan.primary_target;
  const std::optional<Target>& mirror = plan.mirror;
  const BackendRuntime* primary = primary_role == Role::kLegacy ? rr->legacy : rr->modern;
  const BackendRuntime* mirror_backend =
      mirror ? (mirror->role == Role::kLegacy ? rr->legacy : rr->modern) : nullptr;
  // A write whose copy for legacy could not be kept durably is refused before
  // anything is sent (lossless rollback; see MirrorSink::RefuseWrite).
  if (route && mirror && mirror->role == Role::kLegacy && IsWrite(req.method)) {
    if (auto why = sink_.RefuseWrite(rr->name)) {
      auto refused = http::Response::Error(503, *why);
      refused.headers.Set("Retry-After", "5");
      co_return refused;
    }
  }

  // Upgrade (WebSocket and others): the hop-by-hop Upgrade is forwarded on
  // purpose; a 101 turns the exchange into a tunnel (UpstreamTunnel).
  std::string upgrade = UpgradeAsked(req);
  if (!upgrade.empty() && route && !route->upgrade) {
    upgrades_refused_->Inc();
    co_return http::Response::Error(403, "forbidden: route " + rr->name + " refuses upgrades");
  }

  // Headers, shared by primary and mirror.
  const int64_t ts = route && IsWrite(req.method) ? clock_.NowUs() : 0;
  char generated[kRequestIdLength];
  std::string_view generated_id;
  if (auto cur = req.headers.Get(kRequestIdHeader);
      !cur || !ValidRequestId(*cur) || req.headers.Count(kRequestIdHeader) != 1) {
    generated_id = NewRequestId(generated);
  }
  const std::string client_ip = AddressText(req.remote.address());
  const std::string request_id = PrepareUpstreamHeaders(
      req.headers, ForwardFacts{client_ip, generated_id, ts, &cfg.forwarded});

  std::shared_ptr<const std::string> shared_body;
  std::string_view body = req.body;
  if (mirror_backend) {
    shared_body = std::make_shared<const std::string>(std::move(req.body));
    body = *shared_body;
  }
  std::string head;
  head.reserve(256 + primary_target.size());
  if (req.body_stream) {
    assert(!mirror_backend && "PlanRoute(): a mirrored body is read whole");
    AppendStreamedHead(head, req.method, primary_target, req.headers,
                       req.body_stream->content_length(), primary->target.host);
  } else {
    AppendRequestHead(head, req.method, primary_target, req.headers, body.size(),
                      primary->target.host);
  }
  if (!upgrade.empty()) {
    head.insert(head.size() - 2, "Upgrade: " + upgrade + "\r\nConnection: upgrade\r\n");
  }

  // The mirror goes out once the primary request is on the wire.
  const char* mirror_note = mirror_backend ? "pending" : "none";
  std::shared_ptr<MirrorJob> job;
  std::function<void()> on_sent;
  auto make_exchange = [&](MirrorExchange& x) {
    x.route = rr->name;
    x.mode = route->mode;
    x.primary_backend = primary->target.name;
    x.mirror_backend = mirror_backend->target.name;
    x.request_id = request_id;
    x.cohort_key = cohort_key;
    x.method = req.method;
    x.target = mirror->path;
    x.timestamp_us = ts;
    x.write = ts != 0;
    x.mirror_to_legacy = mirror->role == Role::kLegacy;
    if (want_bodies) {
      for (auto f : req.headers) x.headers.emplace_back(f.name, f.value);
      x.body = *shared_body;
    }
    x.durable_before_answer = sink_.NeedsDurableBeforeAnswer(x);
  };
  // A dropped copy the sink must persist before the answer (heap: rare, and
  // the coroutine frame stays small).
  std::unique_ptr<MirrorExchange> dropped_durable;
  if (mirror_backend) {
    on_sent = [&] {
      const auto& policy = route->mirror;
      auto drop = [&](MirrorOutcome why) {
        rr->mirror_outcome[static_cast<int>(why)]->Inc();
        MirrorExchange x;
        make_exchange(x);
        sink_.OnDropped(x, why);
        if (x.durable_before_answer)
          dropped_durable = std::make_unique<MirrorExchange>(std::move(x));
        mirror_note = MirrorOutcomeName(why);
      };
      auto& inflight = rr->state->mirror_inflight;
      const auto& target = *mirror_backend->state;
      if (auto why = AdmitMirror({target.up.load(std::memory_order_relaxed),
                                  target.mirror_breaker.Open(SteadyNowUs()),
                                  inflight.load(std::memory_order_relaxed), policy.max_inflight})) {
        return drop(*why);
      }
      inflight.fetch_add(1, std::memory_order_relaxed);
      rr->state->mirror_inflight_gauge->Add(1);
      mirrors_inflight_.fetch_add(1, std::memory_order_relaxed);
      job = std::make_shared<MirrorJob>();
      job->runtime = rt;
      job->route = rr;
      job->backend = mirror_backend;
      job->target = mirror_backend->target;
      job->target.connect_timeout_ms = std::min(job->target.connect_timeout_ms, policy.timeout_ms);
      job->timeout_ms = policy.timeout_ms;
      job->max_response_bytes = cfg.limits.max_response_bytes;
      job->head.reserve(head.size() + 64);
      AppendRequestHead(job->head, req.method, mirror->path, req.headers, body.size(),
                        mirror_backend->target.host);
      job->head.insert(job->head.size() - 2, "X-Ficus-Mirror: 1\r\n");
      job->body = shared_body;
      job->want_bodies = want_bodies;
      make_exchange(job->exchange);
      job->exchange.dispatched_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                        SteadyClock::now().time_since_epoch())
                                        .count();
      sink_.OnDispatched(job->exchange);
      asio::co_spawn(ex, RunMirror(job), asio::detached);
      mirror_note = "dispatched";
    };
  }

  UpstreamResult r;
  if (req.body_stream) {
    const bool chunked = !req.body_stream->content_length().has_value();
    r = co_await LoopPool(ex).ExchangeStreamed(primary->target, head, *req.body_stream, chunked,
                                               req.method == "HEAD", cfg.limits.max_response_bytes,
                                               /*stream=*/true);
  } else {
    r = co_await LoopPool(ex, tunnels_total_, tunnels_active_)
            .Exchange(primary->target, head, body, req.method == "HEAD",
                      cfg.limits.max_response_bytes, 0, mirror_backend ? &on_sent : nullptr,
                      /*stream=*/true,
                      /*upgrade=*/!upgrade.empty());
  }
  // A compared answer is kept up to compare.max_bytes while the rest streams.
  bool primary_too_large = false;
  if (job && want_bodies && r.ok() && !r.response.rest) {
    // Whole with its head: kept only when within the limit too.
    primary_too_large = r.response.body_.size() > route->compare.max_bytes;
  } else if (job && want_bodies && r.ok() && r.response.rest) {
    auto whole =
        co_await ReadForCompare(r.response.rest, r.response.body_, route->compare.max_bytes);
    if (!whole) {
      r.error = whole.error().code == ErrorCode::kTimeout ? UpstreamErrorKind::kTimeout
                                                          : UpstreamErrorKind::kIo;
      r.detail = whole.error().message;
    } else {
      primary_too_large = !*whole;
    }
  }
  auto& m = rr->metrics[primary_role == Role::kLegacy ? 0 : 1];
  http::Response resp = ResponseFrom(r, primary->target.name, m, req.method == "HEAD");
  resp.headers.Remove(kRequestIdHeader);
  resp.headers.AddParsed(kRequestIdHeader, request_id);  // a valid id (PrepareUpstreamHeaders)
  if (route && !r.client_body_error) {
    sink_.OnPrimary(PrimaryObservation{rr->name, primary_role == Role::kModern,
                                       r.ok() ? static_cast<int>(resp.status) : 0,
                                       r.error == UpstreamErrorKind::kTimeout, ElapsedUs(t0)});
  }
  // A write that reached either side reaches both: when its copy went out
  // (or was kept for the replayer) but the primary's outcome is unknown or
  // failed, the write is also put in the replay log towards the primary,
  // before the client hears back, with the same X-Ficus-Timestamp (a repeat
  // is a no-op under per-key last-write-wins).
  if (ts != 0 && mirror_backend && std::string_view(mirror_note) != "pending" &&
      PrimaryOutcomeUnsure(r, resp.status)) {
    auto back = std::make_unique<MirrorExchange>();
    make_exchange(*back);
    back->mirror_backend = primary->target.name;
    back->target = primary_target;
    back->mirror_to_legacy = primary_role == Role::kLegacy;
    back->durable_before_answer = true;
    (void)co_await PersistBeforeAnswer(sink_, *back, false);
  }
  // Lossless rollback: a write the sink wants durable is persisted before the
  // client hears back, unless its mirror already landed (2xx). A copy still
  // in flight gets replay.persist_grace_ms to land first: cheaper than an
  // fsync'd record in CPU and usually in latency too (bench/controlplane).
  if (job && job->exchange.durable_before_answer && !job->mirror_done &&
      cfg.replay.persist_grace_ms > 0) {
    asio::steady_timer grace(ex);
    grace.expires_after(std::chrono::milliseconds(cfg.replay.persist_grace_ms));
    job->waiter = &grace;
    co_await grace.async_wait(kUse);
    job->waiter = nullptr;
    if (job->mirror_done) persist_graced_->Inc();
  }
  if (job && job->exchange.durable_before_answer &&
      !(job->mirror_done && job->result.outcome == MirrorOutcome::kOk &&
        job->result.status / 100 == 2)) {
    job->exchange.journal_id =
        co_await PersistBeforeAnswer(sink_, job->exchange, !job->mirror_done);
  } else if (!job && dropped_durable) {
    (void)co_await PersistBeforeAnswer(sink_, *dropped_durable, false);
  }
  if (job) {
    job->primary_done = true;
    job->exchange.primary_status = r.ok() ? static_cast<int>(resp.status) : 0;
    job->exchange.primary_too_large = primary_too_large;
    if (want_bodies && !primary_too_large) job->exchange.primary_body = resp.body;
    if (job->mirror_done) FinishMirror(*job);
  }
  const int64_t latency_us = ElapsedUs(t0);
  m.by_class[resp.status / 100 < 6 ? resp.status / 100 : 5]->Inc();
  m.latency->ObserveUs(latency_us);
  requests_total_->Inc();

  if (access_log_.enabled()) {
    LogAccess(req,
              AccessEntry{request_id, client_ip, rr->name, primary->target.name, primary_target,
                          route ? ModeName(route->paused ? Mode::kLegacy : route->mode)
                                : std::string_view("default"),
                          r.ok() ? std::string_view() : std::string_view(r.detail), mirror_note,
                          cohort, resp.status, latency_us});
  }

  if (job && !job->mirror_done && draining_.load(std::memory_order_relaxed)) {
    // Shutting down: give the mirror its time so the drain does not cut it.
    asio::steady_timer t(ex);
    t.expires_after(std::chrono::milliseconds(job->timeout_ms + job->target.connect_timeout_ms));
    job->waiter = &t;
    co_await t.async_wait(kUse);
    job->waiter = nullptr;
  }
  co_return resp;
}

void Proxy::LogAccess(const http::Request& req, const AccessEntry& e) {
  std::string line;
  line.reserve(320);
  line += "{\"ts_us\":";
  line += std::to_string(clock_.NowUs());
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
  const auto t0 = SteadyClock::now();
  auto r = co_await LoopPool(ex).Exchange(job->target, job->head, *job->body, false,
                                          job->max_response_bytes, job->timeout_ms);
  const auto outcome = OutcomeOf(r);
  job->backend->state->mirror_breaker.Note(outcome, SteadyNowUs());
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
    line += std::to_string(clock_.NowUs());
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
  if (job->primary_done) FinishMirror(*job);
}

void Proxy::FinishMirror(MirrorJob& job) {
  sink_.OnCompleted(job.exchange, job.result);
}

}  // namespace ficus::proxy
