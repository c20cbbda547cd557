#include "domain/control_plane.h"

#include <mutex>

#include "domain/route_group.h"

namespace ficus::proxy {
namespace {

FallbackParams ParamsOf(const Route& r) {
  FallbackParams p;
  p.enabled = r.fallback.enabled;
  p.error_rate = r.fallback.error_rate;
  p.window_s = r.fallback.window_s;
  p.min_requests = r.fallback.min_requests;
  return p;
}

}  // namespace

ControlPlane::ControlPlane(const Clock& clock, size_t mismatch_capacity)
    : clock_(clock), ring_(mismatch_capacity) {}

Status ControlPlane::Configure(const Config& cfg) {
  std::vector<std::shared_ptr<const JsonDiffer>> differs;
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    auto d = JsonDiffer::Create(cfg.routes[i].compare.ignore);
    if (!d) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "routes[" + std::to_string(i) + "]." + d.error().message);
    }
    differs.push_back(std::make_shared<const JsonDiffer>(std::move(*d)));
  }
  std::unique_lock lock(mu_);
  group_of_.clear();
  for (const auto& r : cfg.routes) group_of_[r.name] = *GroupOf(cfg, r.name);
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const Route& r = cfg.routes[i];
    auto& slot = routes_[r.name];
    if (!slot) slot = std::make_unique<RouteCtl>(clock_, ParamsOf(r));
    slot->detector.Configure(ParamsOf(r));
    slot->differ.store(differs[i]);
    slot->watch_modern.store(r.fallback.enabled &&
                             (r.mode == Mode::kCanary || r.mode == Mode::kFull));
  }
  return {};
}

ControlPlane::RouteCtl* ControlPlane::Find(std::string_view route) const {
  auto it = routes_.find(route);
  return it == routes_.end() ? nullptr : it->second.get();
}

bool ControlPlane::GroupTrippedLocked(std::string_view route) const {
  auto g = group_of_.find(route);
  if (g == group_of_.end()) {
    RouteCtl* c = Find(route);
    return c && c->detector.Tripped();
  }
  for (const auto& name : g->second) {
    RouteCtl* c = Find(name);
    if (c && c->detector.Tripped()) return true;
  }
  return false;
}

bool ControlPlane::Compare(const CompareInput& in) {
  auto rec = Diff(in);
  if (!rec) return false;
  Report(std::move(*rec));
  return true;
}

std::optional<MismatchRecord> ControlPlane::Diff(const CompareInput& in) {
  std::shared_ptr<const JsonDiffer> differ;
  {
    std::shared_lock lock(mu_);
    RouteCtl* c = Find(in.route);
    if (!c) return std::nullopt;
    differ = c->differ.load();
  }
  if (!differ) return std::nullopt;
  DiffResult d = differ->Compare(in.legacy, in.modern);
  if (d.equal) {
    ring_.RecordMatch(in.route);
    return std::nullopt;
  }
  MismatchRecord rec;
  rec.time_ms = UnixMillis(clock_.Wall());
  rec.route = std::string(in.route);
  rec.request_id = std::string(in.request_id);
  rec.user_key = std::string(in.user_key);
  rec.method = std::string(in.method);
  rec.path = std::string(in.path);
  rec.legacy_status = in.legacy.status;
  rec.modern_status = in.modern.status;
  rec.legacy_body = std::string(in.legacy.body);
  rec.modern_body = std::string(in.modern.body);
  rec.diffs = std::move(d.diffs);
  return rec;
}

void ControlPlane::Report(MismatchRecord record) {
  ring_.RecordMismatch(std::move(record));
}

void ControlPlane::RecordTransient(std::string_view route) {
  std::shared_lock lock(mu_);
  if (RouteCtl* c = Find(route)) {
    c->skipped.fetch_add(1, std::memory_order_relaxed);
    c->transient.fetch_add(1, std::memory_order_relaxed);
  }
}

bool ControlPlane::Differs(std::string_view route, const HttpAnswer& legacy,
                           const HttpAnswer& modern) const {
  std::shared_ptr<const JsonDiffer> differ;
  {
    std::shared_lock lock(mu_);
    RouteCtl* c = Find(route);
    if (!c) return false;
    differ = c->differ.load();
  }
  return differ && !differ->Compare(legacy, modern).equal;
}

void ControlPlane::RecordSkipped(std::string_view route, bool too_large) {
  std::shared_lock lock(mu_);
  if (RouteCtl* c = Find(route)) {
    c->skipped.fetch_add(1, std::memory_order_relaxed);
    if (too_large) c->too_large.fetch_add(1, std::memory_order_relaxed);
  }
}

void ControlPlane::RecordPrimary(std::string_view route, bool modern, int64_t latency_us,
                                 bool error, bool mirrored) {
  std::shared_lock lock(mu_);
  if (RouteCtl* c = Find(route)) {
    (modern ? c->modern : c->legacy).Record(latency_us, error, mirrored);
    if (!mirrored) c->served.fetch_add(1, std::memory_order_relaxed);
    c->answers[modern].fetch_add(1, std::memory_order_relaxed);
    if (error) c->errors[modern].fetch_add(1, std::memory_order_relaxed);
  }
}

bool ControlPlane::RecordModern(std::string_view route, bool error) {
  std::shared_lock lock(mu_);
  RouteCtl* c = Find(route);
  if (!c || !c->watch_modern.load(std::memory_order_relaxed)) return false;
  return c->detector.Record(error);
}

std::optional<RouteLive> ControlPlane::Live(std::string_view route) const {
  std::shared_lock lock(mu_);
  RouteCtl* c = Find(route);
  if (!c) return std::nullopt;
  RouteLive l;
  l.legacy = c->legacy.Snapshot();
  l.modern = c->modern.Snapshot();
  l.fallback = c->detector.State();
  l.fallback_params = c->detector.Params();
  l.mismatch = ring_.Counters(route);
  l.compare_skipped = c->skipped.load(std::memory_order_relaxed);
  l.totals.served = c->served.load(std::memory_order_relaxed);
  l.totals.legacy_answers = c->answers[0].load(std::memory_order_relaxed);
  l.totals.legacy_errors = c->errors[0].load(std::memory_order_relaxed);
  l.totals.modern_answers = c->answers[1].load(std::memory_order_relaxed);
  l.totals.modern_errors = c->errors[1].load(std::memory_order_relaxed);
  l.compare_too_large = c->too_large.load(std::memory_order_relaxed);
  l.compare_transient = c->transient.load(std::memory_order_relaxed);
  return l;
}

bool ControlPlane::Tripped(std::string_view route) const {
  std::shared_lock lock(mu_);
  return GroupTrippedLocked(route);
}

Status ControlPlane::ResetFallback(std::string_view route) {
  std::shared_lock lock(mu_);
  RouteCtl* c = Find(route);
  if (!c)
    return MakeError(ErrorCode::kNotFound, "route: no route named '" + std::string(route) + "'");
  c->detector.Reset();
  if (auto g = group_of_.find(route); g != group_of_.end()) {
    for (const auto& name : g->second) {
      if (RouteCtl* other = Find(name)) other->detector.Reset();
    }
  }
  return {};
}

bool ControlPlane::Trip(std::string_view route, int64_t since_ms, std::string reason) {
  std::shared_lock lock(mu_);
  RouteCtl* c = Find(route);
  return c && c->detector.Trip(since_ms, std::move(reason));
}

std::shared_ptr<const Config> ControlPlane::Effective(
    const std::shared_ptr<const Config>& cfg) const {
  std::shared_lock lock(mu_);
  bool any = false;
  for (const Route& r : cfg->routes) {
    any = any || (GroupTrippedLocked(r.name) && (r.mode == Mode::kCanary || r.mode == Mode::kFull));
  }
  if (!any) return cfg;
  auto copy = std::make_shared<Config>(*cfg);
  for (Route& r : copy->routes) {
    if (GroupTrippedLocked(r.name) && (r.mode == Mode::kCanary || r.mode == Mode::kFull)) {
      r.mode = Mode::kShadow;
    }
  }
  return copy;
}

}  // namespace ficus::proxy
