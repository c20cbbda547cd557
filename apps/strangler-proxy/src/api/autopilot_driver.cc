#include "api/autopilot_driver.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>

#include "domain/route_group.h"
#include "ficus/clock.h"
#include "service/json_text.h"

namespace ficus::proxy {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using Kind = AutopilotDecision::Kind;

constexpr uint32_t kApplyWaitMs = 1000;  // a refused rollback holds and is tried next tick

const Route* FindRoute(const Config& cfg, std::string_view name) {
  for (const auto& r : cfg.routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::optional<HttpEndpoint> Endpoint(const std::string& url) {
  auto u = ParseWebhookUrl(url);
  if (!u) return std::nullopt;
  return HttpEndpoint{u->host, u->port, u->target};
}

}  // namespace

AutopilotDriver::AutopilotDriver(AutopilotDriverDeps deps) : d_(std::move(deps)) {}

AutopilotDriver::~AutopilotDriver() {
  Stop();
}

int64_t AutopilotDriver::Now() const {
  if (d_.now_ms) return d_.now_ms();
  return UnixMillis(SystemClock::WallNow());
}

Status AutopilotDriver::Start() {
  if (d_.store && Leads()) {
    if (auto st = Restore("restart"); !st) return st;
  }
  thread_ = std::thread([this] {
    asio::io_context io(1);
    asio::co_spawn(io, Loop(), asio::detached);
    io.run();
  });
  return {};
}

void AutopilotDriver::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  std::vector<std::future<void>> checks;
  {
    std::lock_guard lock(mu_);
    for (auto& [g, e] : entries_) {
      if (e->check_future.valid()) checks.push_back(std::move(e->check_future));
    }
  }
  for (auto& f : checks) f.wait();
  notifier_.Stop();
}

asio::awaitable<void> AutopilotDriver::Loop() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  while (!stopping_) {
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!Leads()) {
      restored_ = false;
      if (d_.store && Now() - refreshed_ms_ >= 1000) Refresh();
      continue;
    }
    if (!restored_) {
      const std::string who = d_.store && !d_.store->Leader().empty()
                                  ? "takeover by replica " + d_.store->Leader()
                                  : std::string("restart");
      if (auto st = Restore(who); !st) {
        spdlog::warn("autopilot: cannot read the kept plans yet: {}", st.error().message);
        continue;
      }
    }
    std::vector<std::string> due;
    {
      std::lock_guard lock(mu_);
      const int64_t now = Now();
      for (auto& [g, e] : entries_) {
        if (e->run.status == RunStatus::kRunning && e->next_due_ms <= now) {
          e->next_due_ms = now + e->plan.tick_ms;
          due.push_back(g);
        }
      }
    }
    for (const auto& g : due) {
      if (stopping_) break;
      co_await TickOne(g);
    }
  }
}

Result<AutopilotDriver::Target> AutopilotDriver::Resolve(const std::string& name) const {
  auto cfg = d_.configured();
  std::vector<std::string> group;
  if (FindRoute(*cfg, name)) {
    group = *GroupOf(*cfg, name);
  } else {
    for (const auto& [gname, routes] : Groups(*cfg)) {
      if (gname == name) group = routes;
    }
  }
  if (group.empty()) {
    return MakeError(ErrorCode::kNotFound, "name: no route or route group named '" + name + "'");
  }
  Target t;
  t.group = GroupName(*FindRoute(*cfg, group.front()));
  t.route = group.front();
  for (const auto& member : group) {
    const Route* r = FindRoute(*cfg, member);
    if (r->autopilot) {
      t.route = member;
      t.config_plan = r->autopilot;
    }
  }
  return t;
}

AutopilotSnapshot AutopilotDriver::SnapshotOf(const Entry& e) const {
  AutopilotSnapshot s;
  s.now_ms = Now();
  s.check = e.check;
  auto cfg = d_.configured();
  const Route* r = FindRoute(*cfg, e.route);
  if (!r) return s;
  s.shape = RouteShape{r->mode, r->percent_bp, r->paused};
  s.tripped = d_.control->Tripped(e.route);
  const auto group = GroupOf(*cfg, e.route);
  if (!group) return s;
  for (const auto& member : *group) {
    std::optional<FleetRouteNumbers> others;
    if (d_.fleet) others = d_.fleet(member);
    auto live = d_.control->Live(member);
    if (!live) continue;
    if (others) {
      // The fleet's numbers: every replica's counters, one histogram.
      const auto& o = others->counters;
      auto& c = s.counters;
      c.requests += o.requests;
      c.legacy_answers += o.legacy_answers;
      c.legacy_errors += o.legacy_errors;
      c.modern_answers += o.modern_answers;
      c.modern_errors += o.modern_errors;
      c.compared += o.compared;
      c.mismatched += o.mismatched;
      c.skipped += o.skipped;
      live->legacy.p99_ms = TrafficWindow::PercentileMs(
          TrafficWindow::Merge(live->legacy.latency, others->legacy_latency), 0.99);
      live->modern.p99_ms = TrafficWindow::PercentileMs(
          TrafficWindow::Merge(live->modern.latency, others->modern_latency), 0.99);
    }
    auto& c = s.counters;
    c.requests += live->totals.served;
    c.legacy_answers += live->totals.legacy_answers;
    c.legacy_errors += live->totals.legacy_errors;
    c.modern_answers += live->totals.modern_answers;
    c.modern_errors += live->totals.modern_errors;
    c.compared += live->mismatch.compared;
    c.mismatched += live->mismatch.mismatched;
    c.skipped += live->compare_skipped;
    // The group's p99 per side: the slowest route's (routes of one group
    // are judged together).
    auto worst = [](std::optional<double>& into, const std::optional<double>& v) {
      if (v && (!into || *v > *into)) into = v;
    };
    worst(s.legacy_p99_ms, live->legacy.p99_ms);
    worst(s.modern_p99_ms, live->modern.p99_ms);
  }
  const GuardBacklog b =
      SumBacklog(*cfg, *group, [this](const std::string& route, const std::string& backend) {
        uint64_t n = d_.replay_log ? d_.replay_log->Queued(route, backend) : 0;
        if (d_.fleet_backlog) n += d_.fleet_backlog(route, backend);
        return n;
      });
  s.backlog_to_legacy = b.to_legacy;
  s.backlog_to_modern = b.to_modern;
  return s;
}

void AutopilotDriver::LaunchCheck(Entry& e, const AutopilotDecision& d) {
  if (e.check_inflight || e.plan.check.url.empty()) return;
  const int64_t now = Now();
  if (e.check_started_ms && now - e.check_started_ms < int64_t{e.plan.check.interval_s} * 1000) {
    return;
  }
  auto to = Endpoint(e.plan.check.url);
  if (!to) return;
  if (e.check_future.valid()) e.check_future.wait();  // finished: check_inflight is false
  e.check_inflight = true;
  e.check_started_ms = now;
  json::object body{{"group", e.group},
                    {"route", e.route},
                    {"step", StepLabel(e.plan, e.run.step)},
                    {"next", StepLabel(e.plan, e.run.step + 1)},
                    {"gates", GateValuesToJson(d.values)}};
  const auto timeout = std::chrono::milliseconds(e.plan.check.timeout_ms);
  const uint64_t id = e.id;
  const std::string group = e.group;
  e.check_future =
      std::async(std::launch::async, [this, to = *to, text = JsonText(body), timeout, id, group] {
        AutopilotCheck c;
        c.ran = true;
        auto st = PostJson(to, text, timeout);
        if (!st) {
          c.detail = st.error().code == ErrorCode::kTimeout
                         ? "no answer within " + std::to_string(timeout.count()) + " ms"
                         : st.error().message;
        } else {
          c.ok = *st >= 200 && *st < 300;
          c.detail = "HTTP " + std::to_string(*st);
        }
        c.at_ms = Now();
        std::lock_guard lock(mu_);
        auto it = entries_.find(group);
        if (it == entries_.end() || it->second->id != id) return;
        it->second->check = c;
        it->second->check_inflight = false;
      });
}

void AutopilotDriver::Record(const std::string& group, const std::string& route,
                             const TimelineEntry& e, const std::string& status,
                             const std::string& notify_url, bool audit) {
  const json::value gates = GateValuesToJson(e.values);
  spdlog::info("autopilot {}: {} {} -> {}: {}", group, e.kind, e.from_step, e.to_step, e.reason);
  if (audit && d_.audit) {
    AuditEntry a;
    a.what = "autopilot " + group + " (route " + route + "): " + e.kind;
    a.before = json::object{{"step", e.from_step}};
    a.after = json::object{
        {"step", e.to_step}, {"status", status}, {"reason", e.reason}, {"gates", gates}};
    a.when_ms = e.at_ms;
    a.token_name = e.actor;
    if (auto st = d_.audit->Append(a); !st) {
      spdlog::error("autopilot: audit log: {}", st.error().message);
    }
  }
  if (!notify_url.empty()) {
    if (auto to = Endpoint(notify_url)) {
      json::object body{{"text", "[ficus autopilot] " + group + ": " + e.kind + " - " + e.reason},
                        {"group", group},
                        {"route", route},
                        {"kind", e.kind},
                        {"from_step", e.from_step},
                        {"to_step", e.to_step},
                        {"status", status},
                        {"actor", e.actor},
                        {"reason", e.reason},
                        {"at", e.at_ms},
                        {"gates", gates}};
      notifier_.Post(*to, JsonText(body));
    }
  }
}

asio::awaitable<void> AutopilotDriver::TickOne(const std::string& group) {
  AutopilotDecision d;
  AutopilotSnapshot snap;
  std::string route;
  std::string notify;
  uint64_t id = 0;
  RouteShape target_shape;
  bool apply = false;
  bool align = false;
  std::optional<TimelineEntry> record;
  std::string status;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(group);
    if (it == entries_.end() || it->second->run.status != RunStatus::kRunning) co_return;
    Entry& e = *it->second;
    snap = SnapshotOf(e);
    route = e.route;
    notify = e.plan.notify_url;
    id = e.id;
    if (e.pending_align) {
      // Start: the route is moved onto the plan's step first.
      align = apply = true;
      d.kind = Kind::kAdvance;
      d.target = e.run.step;
      d.reason = "plan start: moving the route to " + StepLabel(e.plan, e.run.step);
      target_shape = StepShape(e.plan, e.run.step);
    } else {
      d = Evaluate(e.plan, e.run, snap);
      if (d.want_check) LaunchCheck(e, d);
      const bool moves = d.kind == Kind::kAdvance || d.kind == Kind::kRollback ||
                         (d.kind == Kind::kPause && d.target != e.run.step);
      if (moves) {
        // Recorded as pending before it goes out: whoever drives next knows
        // whether it went through (RecoverRun).
        e.pending = AutopilotPending{d.kind, d.target, d.failure, d.reason, d.values};
        if (auto st = Persist(e); !st) {
          e.pending.reset();
          if (Refused(e.run, d, "its state could not be recorded: " + st.error().message, snap)) {
            record = e.run.timeline.back();
          }
        } else {
          apply = true;
          target_shape = StepShape(e.plan, d.target);
        }
      } else if (d.kind == Kind::kHold && !d.failure) {
        TimelineEntry t;
        t.at_ms = snap.now_ms;
        t.kind = "hold";
        t.from_step = t.to_step = e.run.step;
        t.reason = d.reason;
        t.key = d.key;
        t.actor = "autopilot";
        t.values = d.values;
        e.run.why = d.reason;
        if (AddTimeline(e.run, t)) {
          record = t;
          (void)Persist(e);
        }  // else the same hold as before: folded
      } else {
        Commit(e.plan, e.run, d, snap);
        record = e.run.timeline.back();
        (void)Persist(e);
      }
    }
    status = std::string(RunStatusName(e.run.status));
  }
  if (!apply) {
    if (record) Record(group, route, *record, status, notify, true);
    co_return;
  }
  // A step change: the same path as an operator's PUT.
  RouteChange ch;
  ch.mode = target_shape.mode;
  if (target_shape.mode == Mode::kCanary) ch.percent_bp = target_shape.percent_bp;
  ch.paused = false;
  ch.actor = "autopilot";
  const json::value extra = json::object{{"decision", std::string(DecisionKindName(d.kind))},
                                         {"reason", d.reason},
                                         {"gates", GateValuesToJson(d.values)}};
  AdminRoutes::Command cmd;
  cmd.change = ch;
  cmd.wait_ms = kApplyWaitMs;
  cmd.audit_extra = extra;
  cmd.manual = false;
  auto out = co_await d_.admin->Apply(route, cmd);
  bool fresh = false;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(group);
    if (it == entries_.end() || it->second->id != id) co_return;  // aborted and replaced
    Entry& e = *it->second;
    snap.now_ms = Now();
    if (out) {
      snap.shape = target_shape;
      if (align) {
        e.pending_align = false;
        Aligned(e.plan, e.run, snap, d.reason);
      } else {
        Commit(e.plan, e.run, d, snap);
      }
      fresh = true;
    } else {
      fresh = Refused(e.run, d, out.error().message, snap);  // a repeated refusal is folded
    }
    e.pending.reset();
    (void)Persist(e);
    record = e.run.timeline.back();
    status = std::string(RunStatusName(e.run.status));
  }
  // A change that went through is audited by AdminRoutes::Apply (with the gates).
  if (fresh) Record(group, route, *record, status, notify, !out);
}

AutopilotRecord AutopilotDriver::RecordOf(const Entry& e) const {
  AutopilotRecord r;
  r.group = e.group;
  r.route = e.route;
  r.source = e.source;
  r.plan = e.plan;
  r.run = e.run;
  r.pending_align = e.pending_align;
  r.pending = e.pending;
  return r;
}

Status AutopilotDriver::Persist(const Entry& e) {
  if (!d_.store) return {};
  auto st = d_.store->Save(RecordOf(e));
  if (!st) spdlog::error("autopilot {}: state not recorded: {}", e.group, st.error().message);
  return st;
}

Status AutopilotDriver::RequireLead() const {
  if (Leads()) return {};
  const std::string leader = d_.store ? d_.store->Leader() : "";
  return MakeError(ErrorCode::kConflict,
                   "autopilot: this replica does not drive the plans" +
                       (leader.empty() ? std::string(" (no leader yet: retry in a few seconds)")
                                       : "; replica " + leader + " does: send this there"));
}

Status AutopilotDriver::Restore(const std::string& who) {
  auto records = d_.store->Load();
  if (!records) return tl::unexpected(records.error());
  struct Note {
    std::string group, route, status, notify;
    TimelineEntry entry;
  };
  std::vector<Note> notes;
  std::vector<std::unique_ptr<Entry>> replaced;
  {
    std::lock_guard lock(mu_);
    for (auto& r : *records) {
      auto e = std::make_unique<Entry>();
      e->group = r.group;
      e->route = r.route;
      e->source = r.source;
      e->plan = r.plan;
      e->id = next_id_++;
      AutopilotSnapshot snap = SnapshotOf(*e);
      auto added = RecoverRun(r, snap, who);
      e->run = std::move(r.run);
      e->pending_align = r.pending_align;
      e->pending = r.pending;
      if (added) {
        (void)Persist(*e);
        notes.push_back({e->group, e->route, std::string(RunStatusName(e->run.status)),
                         e->plan.notify_url, *added});
      }
      auto& slot = entries_[e->group];
      if (slot) replaced.push_back(std::move(slot));
      slot = std::move(e);
    }
  }
  for (auto& old : replaced) {
    if (old->check_future.valid()) old->check_future.wait();
  }
  for (const auto& n : notes) Record(n.group, n.route, n.entry, n.status, n.notify, true);
  restored_ = true;
  return {};
}

void AutopilotDriver::Refresh() {
  refreshed_ms_ = Now();
  auto records = d_.store->Load();
  if (!records) return;
  std::vector<std::unique_ptr<Entry>> replaced;
  {
    std::lock_guard lock(mu_);
    for (auto& r : *records) {
      auto e = std::make_unique<Entry>();
      e->group = r.group;
      e->route = r.route;
      e->source = r.source;
      e->plan = std::move(r.plan);
      e->run = std::move(r.run);
      e->pending_align = r.pending_align;
      e->pending = r.pending;
      e->id = next_id_++;
      auto& slot = entries_[e->group];
      if (slot) replaced.push_back(std::move(slot));
      slot = std::move(e);
    }
  }
  for (auto& old : replaced) {
    if (old->check_future.valid()) old->check_future.wait();
  }
}

Result<json::value> AutopilotDriver::Begin(const std::string& name,
                                           const std::optional<AutopilotPlan>& plan,
                                           const std::string& actor) {
  auto t = Resolve(name);
  if (!t) return tl::unexpected(t.error());
  if (auto st = RequireLead(); !st) return tl::unexpected(st.error());
  std::optional<AutopilotPlan> p = plan ? plan : t->config_plan;
  if (!p) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "plan: route group " + t->group +
                         " has no autopilot block in the config; give the plan as the body");
  }
  auto cfg = d_.configured();
  const Route* r = FindRoute(*cfg, t->route);
  if (r->cohort.empty() && !p->canary_steps_bp.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "canary.steps: route " + t->route +
                         " has no cohort, so a canary sends no users to modern (steps: [])");
  }
  TimelineEntry first;
  std::string status;
  std::string notify;
  std::unique_ptr<Entry> replaced;
  {
    std::lock_guard lock(mu_);
    auto& slot = entries_[t->group];
    if (slot &&
        (slot->run.status == RunStatus::kRunning || slot->run.status == RunStatus::kPaused)) {
      return MakeError(ErrorCode::kConflict, "autopilot: route group " + t->group + " has a " +
                                                 std::string(RunStatusName(slot->run.status)) +
                                                 " plan (resume or abort it first)");
    }
    // A check of the replaced run may still be in flight: its future is
    // waited for below, outside the lock (the check takes it to finish).
    replaced = std::move(slot);
    auto e = std::make_unique<Entry>();
    e->group = t->group;
    e->route = t->route;
    e->source = plan ? "api" : "config";
    e->plan = *p;
    e->id = next_id_++;
    AutopilotSnapshot snap = SnapshotOf(*e);
    AutopilotDecision d;
    e->run = StartRun(e->plan, snap, &d, actor);
    // A route not at a step yet is moved there on the first tick, through
    // the guard like every change.
    e->pending_align = d.kind == Kind::kAdvance;
    first = e->run.timeline.back();
    status = "running";
    notify = e->plan.notify_url;
    if (auto st = Persist(*e); !st) {
      slot = std::move(replaced);
      if (!slot) entries_.erase(t->group);
      return tl::unexpected(st.error());
    }
    slot = std::move(e);
  }
  if (replaced && replaced->check_future.valid()) replaced->check_future.wait();
  Record(t->group, t->route, first, status, notify, true);
  return Get(t->group, 50);
}

Result<json::value> AutopilotDriver::Pause(const std::string& name, const std::string& actor) {
  auto t = Resolve(name);
  if (!t) return tl::unexpected(t.error());
  if (auto st = RequireLead(); !st) return tl::unexpected(st.error());
  TimelineEntry e;
  std::string notify;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(t->group);
    if (it == entries_.end() || it->second->run.status != RunStatus::kRunning) {
      return MakeError(ErrorCode::kConflict,
                       "autopilot: no running plan for route group " + t->group);
    }
    PauseRun(it->second->run, "paused by " + actor, actor, Now());
    e = it->second->run.timeline.back();
    (void)Persist(*it->second);
    notify = it->second->plan.notify_url;
  }
  Record(t->group, t->route, e, "paused", notify, true);
  return Get(t->group, 50);
}

Result<json::value> AutopilotDriver::Resume(const std::string& name, const std::string& actor) {
  auto t = Resolve(name);
  if (!t) return tl::unexpected(t.error());
  if (auto st = RequireLead(); !st) return tl::unexpected(st.error());
  TimelineEntry e;
  std::string notify;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(t->group);
    if (it == entries_.end() || it->second->run.status != RunStatus::kPaused) {
      return MakeError(ErrorCode::kConflict,
                       "autopilot: no paused plan for route group " + t->group);
    }
    Entry& en = *it->second;
    const AutopilotSnapshot snap = SnapshotOf(en);
    ResumeRun(en.plan, en.run, snap, actor);
    // Moved by hand meanwhile (e.g. 10% between the 5% and 25% steps): the
    // route goes onto the step first, through the guard.
    en.pending_align = !AtStep(en.plan, en.run.step, snap.shape);
    en.next_due_ms = 0;
    e = en.run.timeline.back();
    (void)Persist(en);
    notify = en.plan.notify_url;
  }
  Record(t->group, t->route, e, "running", notify, true);
  return Get(t->group, 50);
}

Result<json::value> AutopilotDriver::Abort(const std::string& name, const std::string& actor) {
  auto t = Resolve(name);
  if (!t) return tl::unexpected(t.error());
  if (auto st = RequireLead(); !st) return tl::unexpected(st.error());
  TimelineEntry e;
  std::string notify;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(t->group);
    if (it == entries_.end() || it->second->run.status == RunStatus::kAborted ||
        it->second->run.status == RunStatus::kDone) {
      return MakeError(ErrorCode::kConflict,
                       "autopilot: no running or paused plan for route group " + t->group);
    }
    AbortRun(it->second->run, actor, Now());
    e = it->second->run.timeline.back();
    (void)Persist(*it->second);
    notify = it->second->plan.notify_url;
  }
  Record(t->group, t->route, e, "aborted", notify, true);
  return Get(t->group, 50);
}

void AutopilotDriver::OnManualChange(const std::string& route, const std::string& actor) {
  auto t = Resolve(route);
  if (!t) return;
  if (!Leads()) return;  // the leader sees the route off its step and pauses
  TimelineEntry e;
  std::string notify;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(t->group);
    if (it == entries_.end() || it->second->run.status != RunStatus::kRunning) return;
    PauseRun(it->second->run,
             "manual change by " + actor + " (route " + route + "): the plan waits for a resume",
             actor, Now());
    e = it->second->run.timeline.back();
    notify = it->second->plan.notify_url;
    (void)Persist(*it->second);
  }
  Record(t->group, t->route, e, "paused", notify, true);
}

json::value AutopilotDriver::DriverJson() const {
  // Which replica drives (a fleet); a single proxy always does.
  return json::object{{"leads", Leads()},
                      {"leader", d_.store ? json::value(d_.store->Leader()) : json::value()}};
}

json::value AutopilotDriver::EntryJson(const Entry& e, size_t timeline) const {
  json::object o{{"group", e.group},
                 {"route", e.route},
                 {"source", e.source},
                 {"plan", AutopilotPlanToJson(e.plan)}};
  json::value run = RunToJson(e.plan, e.run, timeline);
  auto& ro = run.as_object();
  o["status"] = ro["status"];
  o["why"] = ro["why"];
  o["run"] = std::move(run);
  o["check"] = e.plan.check.url.empty()
                   ? json::value(nullptr)
                   : json::value(json::object{{"ran", e.check.ran},
                                              {"ok", e.check.ok},
                                              {"at", e.check.at_ms},
                                              {"detail", e.check.detail},
                                              {"in_flight", e.check_inflight}});
  o["driver"] = DriverJson();
  return o;
}

Result<json::value> AutopilotDriver::Get(const std::string& name, size_t timeline) const {
  auto t = Resolve(name);
  if (!t) return tl::unexpected(t.error());
  std::lock_guard lock(mu_);
  auto it = entries_.find(t->group);
  if (it != entries_.end()) return EntryJson(*it->second, timeline);
  json::object o{{"group", t->group},
                 {"route", t->route},
                 {"source", t->config_plan ? "config" : "none"},
                 {"plan", t->config_plan ? AutopilotPlanToJson(*t->config_plan) : json::value()},
                 {"status", "not started"},
                 {"why", t->config_plan ? "not started yet (POST .../start)"
                                        : "no plan (config autopilot block or POST .../start)"},
                 {"run", nullptr},
                 {"driver", DriverJson()}};
  return o;
}

json::value AutopilotDriver::List() const {
  auto cfg = d_.configured();
  json::array a;
  for (const auto& [gname, routes] : Groups(*cfg)) {
    bool has_plan = false;
    for (const auto& r : routes) has_plan = has_plan || FindRoute(*cfg, r)->autopilot.has_value();
    {
      std::lock_guard lock(mu_);
      has_plan = has_plan || entries_.count(gname);
    }
    if (!has_plan) continue;
    if (auto g = Get(gname, 20)) a.push_back(std::move(*g));
  }
  return a;
}

std::vector<AutopilotDriver::GroupGauge> AutopilotDriver::Gauges() const {
  std::lock_guard lock(mu_);
  std::vector<GroupGauge> out;
  for (const auto& [g, e] : entries_) {
    out.push_back({g, e->run.step, e->run.status == RunStatus::kRunning, e->run.failures});
  }
  return out;
}

}  // namespace ficus::proxy
