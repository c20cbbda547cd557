#include "api/admin_routes.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>

#include "api/admin_reply.h"
#include "api/admin_request.h"
#include "dashboard/embedded_assets.h"
#include "domain/mode_guard.h"
#include "domain/route_group.h"
#include "ficus/clock.h"
#include "service/json_text.h"

namespace ficus::proxy {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

json::value Opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object Traffic(const TrafficSnapshot& s) {
  return {
      {"rps", Opt(s.rps)},       {"mirrored_rps", Opt(s.mirrored_rps)}, {"p50_ms", Opt(s.p50_ms)},
      {"p99_ms", Opt(s.p99_ms)}, {"error_rate", Opt(s.error_rate)},     {"requests", s.requests},
      {"errors", s.errors}};
}

json::object Shape(const Route& r) {
  return {{"mode", std::string(ModeName(r.mode))},
          {"percent", r.percent_bp / 100.0},
          {"paused", r.paused}};
}

RouteShape ShapeOf(const Route& r) {
  return RouteShape{r.mode, r.percent_bp, r.paused};
}

const Route* FindRoute(const Config& cfg, std::string_view name) {
  for (const auto& r : cfg.routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::optional<http::Response> Asset(std::string_view path) {
  if (path.starts_with("/dashboard")) path.remove_prefix(10);
  if (path.empty()) path = "/";
  const EmbeddedAsset* a = FindEmbeddedAsset(path == "/" ? "index.html" : path);
  if (!a) return std::nullopt;
  http::Response r = http::Response::Text(200, std::string(a->data), a->content_type);
  r.headers.Set("ETag", a->etag);
  r.headers.Set("Cache-Control", "no-cache");
  return r;
}

}  // namespace

json::value AdminRoutes::RouteJson(const Route& c) const {
  json::object o;
  o["name"] = c.name;
  o["method"] = c.method;
  o["path"] = c.path;
  o["prefix"] = c.prefix;
  o["cohort"] = c.cohort;
  o["group"] = GroupName(c);
  // As running: the proxy's runtime config has the fallback overrides applied.
  auto rt = d_.proxy->runtime();
  const Route* running = FindRoute(*rt->config, c.name);
  o["mode"] = std::string(ModeName(running ? running->mode : c.mode));
  o["configured_mode"] = std::string(ModeName(c.mode));
  o["percent"] = c.percent_bp / 100.0;
  o["paused"] = c.paused;
  const auto live = d_.control->Live(c.name);
  if (live) {
    o["rates"] = json::object{{"legacy", Traffic(live->legacy)}, {"modern", Traffic(live->modern)}};
    o["mismatch"] = json::object{
        {"rate", live->mismatch.Rate()},        {"count", live->mismatch.mismatched},
        {"compared", live->mismatch.compared},  {"skipped", live->compare_skipped},
        {"too_large", live->compare_too_large}, {"transient", live->compare_transient}};
    const auto& f = live->fallback;
    const auto& p = live->fallback_params;
    // A trip of any route of the group runs the whole group as shadow: a
    // route that did not trip itself shows the tripped route's time and reason.
    const bool group_tripped = d_.control->Tripped(c.name);
    FallbackState shown = f;
    if (!f.tripped && group_tripped) {
      if (auto group = GroupOf(*d_.config->Configured(), c.name)) {
        for (const auto& other : *group) {
          auto ol = d_.control->Live(other);
          if (ol && ol->fallback.tripped) {
            shown = ol->fallback;
            shown.reason = "route group " + GroupName(c) + " fell back (route " + other +
                           " tripped: " + ol->fallback.reason + ")";
            break;
          }
        }
      }
    }
    o["fallback"] =
        json::object{{"enabled", c.fallback.enabled},   {"tripped", group_tripped},
                     {"since", shown.since_ms},         {"reason", shown.reason},
                     {"error_rate", p.error_rate},      {"window_s", p.window_s},
                     {"min_requests", p.min_requests},  {"window_total", f.window_total},
                     {"window_errors", f.window_errors}};
  }
  // Queued for the replayer; held = persisted while their own mirror is in
  // flight (settled by it, or queued when it fails).
  const uint64_t to_legacy = d_.replay_log ? d_.replay_log->Queued(c.name, c.legacy_backend) : 0;
  const uint64_t to_modern = d_.replay_log ? d_.replay_log->Queued(c.name, c.modern_backend) : 0;
  o["backlog"] = to_legacy + to_modern;
  o["backlog_to"] = json::object{{"legacy", to_legacy}, {"modern", to_modern}};
  if (d_.replay_log) {
    const uint64_t all_legacy = d_.replay_log->Backlog(c.name, c.legacy_backend);
    const uint64_t all_modern = d_.replay_log->Backlog(c.name, c.modern_backend);
    o["held_to"] = json::object{{"legacy", all_legacy > to_legacy ? all_legacy - to_legacy : 0},
                                {"modern", all_modern > to_modern ? all_modern - to_modern : 0}};
  }
  for (const auto& rr : rt->routes) {
    if (rr.name == c.name) o["mirror_inflight"] = rr.state->mirror_inflight.load();
  }
  o["generation"] = rt->generation;
  o["revision"] = d_.store ? d_.store->Revision(c.name) : 0;
  if (d_.fleet) o["fleet"] = d_.fleet->RouteJson(c.name);
  return o;
}

http::Response AdminRoutes::Routes() const {
  auto cfg = d_.config->Configured();
  json::array a;
  for (const auto& r : cfg->routes) a.push_back(RouteJson(r));
  return AdminJson(200, a);
}

http::Response AdminRoutes::Mismatches(const http::Request& req) const {
  const std::string route = req.QueryParam("route").value_or("");
  size_t limit = 50;
  if (auto l = req.QueryParam("limit")) {
    char* end = nullptr;
    const long v = std::strtol(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v < 1 || v > 1000) {
      return AdminError(400, "limit: must be an integer from 1 to 1000");
    }
    limit = static_cast<size_t>(v);
  }
  if (!route.empty() && !FindRoute(*d_.config->Configured(), route)) {
    return AdminError(404, "route: no route named '" + route + "'");
  }
  json::array a;
  for (const auto& m : d_.control->mismatches().Recent(route, limit))
    a.push_back(MismatchToJson(m));
  return AdminJson(200, a);
}

http::Response AdminRoutes::Status() const {
  auto rt = d_.proxy->runtime();
  json::object o{{"version", "ficus-proxy"},
                 {"started_at", d_.started_ms},
                 {"now", d_.control->NowMs()},
                 {"generation", rt->generation}};
  if (d_.replay_log) {
    const auto s = d_.replay_log->Stats();
    o["replay"] = json::object{{"enabled", true},
                               {"backlog", s.backlog},
                               {"held", s.held},
                               {"bytes", s.bytes},
                               {"max_bytes", s.max_bytes},
                               {"full", s.full},
                               {"appended", s.appended},
                               {"delivered", s.delivered},
                               {"rejected", s.rejected},
                               {"retries", s.retries},
                               {"full_rejections", s.full_rejections}};
  } else {
    o["replay"] = json::object{{"enabled", false}};
  }
  json::array tripped;
  for (const auto& r : d_.config->Configured()->routes) {
    if (d_.control->Tripped(r.name)) tripped.push_back(json::string(r.name));
  }
  o["fallbacks"] = std::move(tripped);
  o["control"] = d_.fleet ? d_.fleet->ControlJson() : json::object{{"store", "file"}};
  o["cdc"] = d_.cdc_json ? d_.cdc_json() : json::object{{"state", "not_configured"}};
  return AdminJson(200, o);
}

// Waits (up to wait_ms) until every route of the group may move from its
// `from` shape to its `to` shape under the group's replay backlog; the
// reason of the first refusal when the wait runs out.
asio::awaitable<std::optional<std::string>> AdminRoutes::Guard(
    const Config& cfg, const std::vector<std::string>& group,
    const std::vector<std::pair<RouteShape, RouteShape>>& moves, uint32_t wait_ms) const {
  auto ex = co_await asio::this_coro::executor;
  const MonoTime deadline = SystemClock::MonoNow() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    // This replica's queue, plus what every other replica of the fleet
    // reported (control.store etcd): the guard sees the fleet's backlog.
    const GuardBacklog b =
        SumBacklog(cfg, group, [this](const std::string& route, const std::string& backend) {
          uint64_t n = d_.replay_log ? d_.replay_log->Queued(route, backend) : 0;
          if (d_.fleet) n += d_.fleet->Backlog(route, backend);
          return n;
        });
    std::optional<std::string> reason;
    for (const auto& [from, to] : moves) {
      if (!reason) reason = CheckRouteChange(from, to, b);
    }
    if (!reason || SystemClock::MonoNow() >= deadline) co_return reason;
    asio::steady_timer t(ex, std::chrono::milliseconds(100));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<http::Response> AdminRoutes::Change(http::Request& req, const std::string& name) {
  auto caller = AuthorizeAdmin(d_.config->Configured()->admin_token_file, req);
  if (caller.denied) co_return std::move(*caller.denied);
  if (!FindRoute(*d_.config->Configured(), name)) {
    co_return AdminError(404, "route: no route named '" + name + "'");
  }
  auto parsed = ParseRouteChangeRequest(req.body);
  if (!parsed) co_return AdminError(parsed.error());
  Command cmd;
  cmd.change = parsed->change;
  cmd.change.actor = caller.actor;
  cmd.wait_ms = parsed->wait_ms;
  if (auto im = req.headers.Get("If-Match")) {
    // The revision the operator saw (GET .../NAME, field revision), quoted or not.
    std::string v(*im);
    std::erase(v, '"');
    char* end = nullptr;
    const long long rev = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || rev < 0) {
      co_return AdminError(400, "If-Match: must be a route revision (an integer)");
    }
    cmd.change.expect_revision = rev;
  }
  const auto out = co_await Apply(name, cmd);
  co_return AdminResult(out);
}

asio::awaitable<http::Response> AdminRoutes::ResetFallback(http::Request& req,
                                                           const std::string& name) {
  auto caller = AuthorizeAdmin(d_.config->Configured()->admin_token_file, req);
  if (caller.denied) co_return std::move(*caller.denied);
  if (!FindRoute(*d_.config->Configured(), name)) {
    co_return AdminError(404, "route: no route named '" + name + "'");
  }
  auto wait_ms = ParseResetFallbackRequest(req.body);
  if (!wait_ms) co_return AdminError(wait_ms.error());
  Command cmd;
  cmd.kind = Command::Kind::kResetFallback;
  cmd.change.actor = caller.actor;
  cmd.wait_ms = *wait_ms;
  const auto out = co_await Apply(name, cmd);
  co_return AdminResult(out);
}

asio::awaitable<Result<json::value>> AdminRoutes::Apply(const std::string& name,
                                                        const Command& cmd) {
  const auto cfg = d_.config->Configured();
  const Route* r = FindRoute(*cfg, name);
  if (!r) co_return MakeError(ErrorCode::kNotFound, "route: no route named '" + name + "'");
  const bool reset = cmd.kind == Command::Kind::kResetFallback;
  const std::string& actor = cmd.change.actor;
  // The whole group moves: routes sharing a cohort (domain/route_group.h).
  const std::vector<std::string> group = *GroupOf(*cfg, name);
  // Each member's move, from the shape it runs to the shape it will run. A
  // fallback reset moves the group's users from shadow (as running) back to
  // their configured canary/full share; nothing moves when it is not tripped.
  std::vector<std::pair<RouteShape, RouteShape>> moves;
  if (!reset || d_.control->Tripped(name)) {
    for (const auto& member : group) {
      const Route* m = FindRoute(*cfg, member);
      RouteShape from = ShapeOf(*m);
      RouteShape to = from;
      if (reset) {
        if (m->mode == Mode::kCanary || m->mode == Mode::kFull) from.mode = Mode::kShadow;
      } else {
        if (cmd.change.mode) to.mode = *cmd.change.mode;
        if (cmd.change.percent_bp) to.percent_bp = *cmd.change.percent_bp;
        if (cmd.change.paused) to.paused = *cmd.change.paused;
      }
      moves.emplace_back(from, to);
    }
  }
  const char* what = reset ? "fallback reset" : "change";
  const auto reason = co_await Guard(*cfg, group, moves, cmd.wait_ms);
  if (reason) {
    spdlog::warn("admin: {} of route {} by {} refused: {}", what, name, actor, *reason);
    co_return MakeError(ErrorCode::kConflict, *reason);
  }
  auto committed = Commit(*cfg, group, name, cmd);
  if (!committed) co_return tl::unexpected(committed.error());
  AuditEntry e;
  e.what =
      "route group " + GroupName(*r) + (reset ? " fallback" : "") + " (via route " + name + ")";
  e.before = std::move(committed->first);
  e.after = std::move(committed->second);
  if (!cmd.audit_extra.is_null()) e.after.as_object()["autopilot"] = cmd.audit_extra;
  e.token_name = actor;
  if (auto st = Audit(e, "route group " + GroupName(*r) + (reset ? " fallback reset" : " changed"));
      !st) {
    co_return tl::unexpected(st.error());
  }
  // A manual change of a group an autopilot drives pauses it.
  if (cmd.manual && d_.on_manual_change) d_.on_manual_change(name, actor);
  const Route* after = FindRoute(*d_.config->Configured(), name);
  if (!after) co_return MakeError(ErrorCode::kInternal, "route vanished after the change");
  co_return RouteJson(*after);
}

Result<std::pair<json::value, json::value>> AdminRoutes::Commit(
    const Config& cfg, const std::vector<std::string>& group, const std::string& name,
    const Command& cmd) {
  if (cmd.kind == Command::Kind::kResetFallback) {
    const bool was = d_.control->Tripped(name);
    if (d_.fleet) {
      // Fleet-wide: every replica follows (the store drops the group's trips).
      if (auto st = d_.fleet->ResetFallback(group); !st) return tl::unexpected(st.error());
    }
    (void)d_.control->ResetFallback(name);
    d_.config->Reapply();
    return std::pair<json::value, json::value>{json::object{{"tripped", was}},
                                               json::object{{"tripped", false}}};
  }
  const Route* before = FindRoute(cfg, name);
  json::object before_routes;
  for (const auto& member : group) before_routes[member] = Shape(*FindRoute(cfg, member));
  if (auto st = d_.store->Apply(group, cmd.change); !st) return tl::unexpected(st.error());
  if (auto st = d_.config->Reload("admin change"); !st) {
    return MakeError(ErrorCode::kInternal, "config written but not applied: " + st.error().message);
  }
  const auto now = d_.config->Configured();
  const Route* after = FindRoute(*now, name);
  if (!after) return MakeError(ErrorCode::kInternal, "route vanished after the change");
  json::value b = Shape(*before);
  json::value a = Shape(*after);
  b.as_object()["routes"] = std::move(before_routes);
  json::object after_routes;
  for (const auto& member : group) {
    if (const Route* m = FindRoute(*now, member)) after_routes[member] = Shape(*m);
  }
  a.as_object()["routes"] = std::move(after_routes);
  if (const int64_t rev = d_.store->Revision(name); rev > 0) {
    a.as_object()["revision"] = rev;  // the control store's revision of this change
  }
  return std::pair<json::value, json::value>{std::move(b), std::move(a)};
}

Status AdminRoutes::Audit(const AuditEntry& e, const std::string& what) const {
  spdlog::info("admin: {} by {}: {} -> {}", what, e.token_name, JsonText(e.before),
               JsonText(e.after));
  if (!d_.audit) return {};
  if (auto st = d_.audit->Append(e); !st) {
    spdlog::error("admin: audit log: {}", st.error().message);
    return MakeError(ErrorCode::kInternal,
                     what + " but the audit log failed: " + st.error().message);
  }
  return {};
}

asio::awaitable<std::optional<http::Response>> AdminRoutes::Handle(http::Request& req) {
  const std::string path(req.Path());
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (!path.starts_with("/admin/")) {
    if (!get) co_return std::nullopt;
    if (auto a = Asset(path)) {
      if (auto inm = req.headers.Get("If-None-Match"); inm && *inm == a->headers.Get("ETag")) {
        http::Response nm;
        nm.status = 304;
        nm.headers.Set("ETag", *inm);
        co_return nm;
      }
      co_return std::move(*a);
    }
    co_return std::nullopt;
  }
  if (path == "/admin/routes") {
    if (!get) co_return MethodNotAllowed("GET");
    co_return Routes();
  }
  if (path == "/admin/mismatches") {
    if (!get) co_return MethodNotAllowed("GET");
    // Both stores' answers: users' profile data. A read (or operate) token.
    auto caller = AuthorizeAdmin(d_.config->Configured()->admin_token_file, req, AdminRole::kRead);
    if (caller.denied) co_return std::move(*caller.denied);
    co_return Mismatches(req);
  }
  if (path == "/admin/status") {
    if (!get) co_return MethodNotAllowed("GET");
    co_return Status();
  }
  constexpr std::string_view kRoutes = "/admin/routes/";
  if (path.starts_with(kRoutes)) {
    std::string rest = http::PercentDecode(std::string_view(path).substr(kRoutes.size()));
    constexpr std::string_view kReset = "/reset-fallback";
    if (rest.ends_with(kReset)) {
      if (req.method != "POST") co_return MethodNotAllowed("POST");
      co_return co_await ResetFallback(req, rest.substr(0, rest.size() - kReset.size()));
    }
    if (req.method == "PUT") co_return co_await Change(req, rest);
    if (!get) co_return MethodNotAllowed("GET, PUT");
    auto cfg = d_.config->Configured();
    const Route* r = FindRoute(*cfg, rest);
    if (!r) co_return AdminError(404, "route: no route named '" + rest + "'");
    co_return AdminJson(200, RouteJson(*r));
  }
  co_return AdminError(404, "path: no such admin endpoint");
}

}  // namespace ficus::proxy
