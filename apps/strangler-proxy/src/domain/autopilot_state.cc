#include "domain/autopilot_state.h"

#include <boost/json.hpp>

namespace ficus::proxy {
namespace {

namespace json = boost::json;
using Kind = AutopilotDecision::Kind;

constexpr int kVersion = 1;

// Field readers: each error names `path`.key.
struct Reader {
  const json::object& o;
  std::string path;
  std::string error;

  const json::value* Get(std::string_view k) { return o.if_contains(k); }
  std::string Name(std::string_view k) const {
    return path.empty() ? std::string(k) : path + "." + std::string(k);
  }
  void Fail(std::string_view k, const char* what) {
    if (error.empty()) error = Name(k) + ": " + what;
  }
  int64_t Int(std::string_view k, int64_t def = 0) {
    const auto* v = Get(k);
    if (!v || v->is_null()) return def;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) return int64_t(v->as_uint64());
    if (v->is_double() && v->as_double() == double(int64_t(v->as_double()))) {
      return int64_t(v->as_double());
    }
    Fail(k, "must be an integer");
    return def;
  }
  uint64_t Count(std::string_view k) {
    const int64_t n = Int(k);
    if (n < 0) {
      Fail(k, "must not be negative");
      return 0;
    }
    return uint64_t(n);
  }
  std::optional<double> Number(std::string_view k) {
    const auto* v = Get(k);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_double()) return v->as_double();
    if (v->is_int64()) return double(v->as_int64());
    if (v->is_uint64()) return double(v->as_uint64());
    Fail(k, "must be a number or null");
    return std::nullopt;
  }
  std::string Str(std::string_view k) {
    const auto* v = Get(k);
    if (!v || v->is_null()) return "";
    if (v->is_string()) return std::string(v->as_string());
    Fail(k, "must be a string");
    return "";
  }
  bool Bool(std::string_view k) {
    const auto* v = Get(k);
    if (!v || v->is_null()) return false;
    if (v->is_bool()) return v->as_bool();
    Fail(k, "must be true or false");
    return false;
  }
};

std::optional<Kind> KindFromName(std::string_view s) {
  for (Kind k : {Kind::kHold, Kind::kAdvance, Kind::kRollback, Kind::kPause, Kind::kDone}) {
    if (DecisionKindName(k) == s) return k;
  }
  return std::nullopt;
}

std::optional<RunStatus> StatusFromName(std::string_view s) {
  for (RunStatus st :
       {RunStatus::kRunning, RunStatus::kPaused, RunStatus::kDone, RunStatus::kAborted}) {
    if (RunStatusName(st) == s) return st;
  }
  return std::nullopt;
}

json::value RecordJson(const AutopilotRecord& r) {
  const AutopilotRun& run = r.run;
  json::array timeline;
  for (const auto& e : run.timeline) {
    timeline.push_back(json::object{{"at", e.at_ms},
                                    {"last_at", e.last_at_ms},
                                    {"count", e.count},
                                    {"kind", e.kind},
                                    {"key", e.key},
                                    {"from", e.from_step},
                                    {"to", e.to_step},
                                    {"reason", e.reason},
                                    {"actor", e.actor},
                                    {"gates", GateValuesToJson(e.values)}});
  }
  json::value pending;
  if (r.pending) {
    pending = json::object{{"kind", std::string(DecisionKindName(r.pending->kind))},
                           {"target", r.pending->target},
                           {"failure", r.pending->failure},
                           {"reason", r.pending->reason},
                           {"gates", GateValuesToJson(r.pending->values)}};
  }
  return json::object{{"v", kVersion},
                      {"group", r.group},
                      {"route", r.route},
                      {"source", r.source},
                      {"plan", AutopilotPlanToJson(r.plan)},
                      {"run", json::object{{"status", std::string(RunStatusName(run.status))},
                                           {"step", run.step},
                                           {"last_good", run.last_good},
                                           {"started", run.started_ms},
                                           {"step_since", run.step_since_ms},
                                           {"failures", run.failures},
                                           {"why", run.why},
                                           {"timeline", std::move(timeline)}}},
                      {"pending_align", r.pending_align},
                      {"pending", std::move(pending)}};
}

Result<AutopilotRecord> RecordFrom(const json::value& v, const std::string& where) {
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument, "autopilot state " + where + ": " + what);
  };
  if (!v.is_object()) return bad("must be a JSON object");
  Reader top{v.as_object(), ""};
  if (top.Int("v", kVersion) != kVersion) return bad("v: unknown version");
  AutopilotRecord r;
  r.group = top.Str("group");
  r.route = top.Str("route");
  r.source = top.Str("source");
  r.pending_align = top.Bool("pending_align");
  if (!top.error.empty()) return bad(top.error);
  if (r.group.empty()) return bad("group: missing");
  if (r.route.empty()) return bad("route: missing");
  const auto* plan = top.Get("plan");
  if (!plan) return bad("plan: missing");
  auto p = ParseAutopilotPlan(*plan, "plan");
  if (!p) return bad(p.error().message);
  r.plan = std::move(*p);
  const int steps = StepCount(r.plan);

  const auto* runv = top.Get("run");
  if (!runv || !runv->is_object()) return bad("run: missing or not an object");
  Reader run{runv->as_object(), "run"};
  auto st = StatusFromName(run.Str("status"));
  if (!st) return bad("run.status: must be running, paused, done or aborted");
  r.run.status = *st;
  r.run.step = static_cast<int>(run.Int("step"));
  r.run.last_good = static_cast<int>(run.Int("last_good"));
  r.run.started_ms = run.Int("started");
  r.run.step_since_ms = run.Int("step_since");
  r.run.failures = static_cast<uint32_t>(run.Count("failures"));
  r.run.why = run.Str("why");
  if (!run.error.empty()) return bad(run.error);
  if (r.run.step < 0 || r.run.step >= steps) return bad("run.step: not a step of the plan");
  if (r.run.last_good < 0 || r.run.last_good >= steps) {
    return bad("run.last_good: not a step of the plan");
  }
  if (const auto* tl = run.Get("timeline"); tl && !tl->is_null()) {
    if (!tl->is_array()) return bad("run.timeline: must be an array");
    size_t i = 0;
    for (const auto& ev : tl->as_array()) {
      const std::string at = "run.timeline[" + std::to_string(i++) + "]";
      if (!ev.is_object()) return bad(at + ": must be an object");
      Reader e{ev.as_object(), at};
      TimelineEntry t;
      t.at_ms = e.Int("at");
      t.last_at_ms = e.Int("last_at");
      t.count = static_cast<uint32_t>(e.Count("count"));
      t.kind = e.Str("kind");
      t.key = e.Str("key");
      t.from_step = static_cast<int>(e.Int("from"));
      t.to_step = static_cast<int>(e.Int("to"));
      t.reason = e.Str("reason");
      t.actor = e.Str("actor");
      if (!e.error.empty()) return bad(e.error);
      if (const auto* g = e.Get("gates"); g && !g->is_null()) {
        auto gv = GateValuesFromJson(*g, at + ".gates");
        if (!gv) return bad(gv.error().message);
        t.values = std::move(*gv);
      }
      r.run.timeline.push_back(std::move(t));
    }
    while (r.run.timeline.size() > AutopilotRun::kTimelineMax) r.run.timeline.pop_front();
  }
  if (const auto* pv = top.Get("pending"); pv && !pv->is_null()) {
    if (!pv->is_object()) return bad("pending: must be an object or null");
    Reader pe{pv->as_object(), "pending"};
    AutopilotPending pd;
    auto k = KindFromName(pe.Str("kind"));
    if (!k || *k == Kind::kHold || *k == Kind::kDone) {
      return bad("pending.kind: must be advance, rollback or pause");
    }
    pd.kind = *k;
    pd.target = static_cast<int>(pe.Int("target"));
    pd.failure = pe.Bool("failure");
    pd.reason = pe.Str("reason");
    if (!pe.error.empty()) return bad(pe.error);
    if (pd.target < -1 || pd.target >= steps) return bad("pending.target: not a step of the plan");
    if (const auto* g = pe.Get("gates"); g && !g->is_null()) {
      auto gv = GateValuesFromJson(*g, "pending.gates");
      if (!gv) return bad(gv.error().message);
      pd.values = std::move(*gv);
    }
    r.pending = std::move(pd);
  }
  return r;
}

Result<json::value> Parse(std::string_view text, std::string_view key) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "autopilot state " + std::string(key) + ": not valid JSON: " + ec.message());
  }
  return v;
}

void RestartStep(AutopilotRun& run, const AutopilotSnapshot& snap) {
  run.step_since_ms = snap.now_ms;
  run.step_base = snap.counters;
  run.samples.clear();
  run.samples.emplace_back(snap.now_ms, snap.counters);
}

std::string ShapeText(const RouteShape& s) {
  std::string t(ModeName(s.mode));
  if (s.mode == Mode::kCanary) {
    t += " " + std::to_string(s.percent_bp / 100) +
         (s.percent_bp % 100
              ? "." + std::to_string(s.percent_bp % 100 / 10) + std::to_string(s.percent_bp % 10)
              : "") +
         "%";
  }
  if (s.paused) t += ", paused";
  return t;
}

}  // namespace

Result<GateValues> GateValuesFromJson(const json::value& v, std::string_view path) {
  if (!v.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(path) + ": must be an object");
  }
  Reader r{v.as_object(), std::string(path)};
  GateValues g;
  g.window_ms = r.Int("window_ms");
  g.modern_answers = r.Count("modern_answers");
  g.modern_errors = r.Count("modern_errors");
  g.legacy_answers = r.Count("legacy_answers");
  g.legacy_errors = r.Count("legacy_errors");
  g.modern_error_rate = r.Number("modern_error_rate");
  g.legacy_error_rate = r.Number("legacy_error_rate");
  g.modern_p99_ms = r.Number("modern_p99_ms");
  g.legacy_p99_ms = r.Number("legacy_p99_ms");
  g.compared = r.Count("compared");
  g.mismatched = r.Count("mismatched");
  g.skipped = r.Count("skipped");
  g.mismatch_rate = r.Number("mismatch_rate");
  g.step_age_ms = r.Int("step_age_ms");
  g.step_requests = r.Count("step_requests");
  g.step_compared = r.Count("step_compared");
  g.step_mismatched = r.Count("step_mismatched");
  g.backlog_to_legacy = r.Count("backlog_to_legacy");
  g.backlog_to_modern = r.Count("backlog_to_modern");
  if (const auto* gates = r.Get("gates"); gates && gates->is_array()) {
    for (const auto& x : gates->as_array()) {
      if (!x.is_object()) continue;
      Reader gr{x.as_object(), r.Name("gates")};
      GateResult res;
      res.name = gr.Str("name");
      const std::string st = gr.Str("state");
      res.state = st == "pass"   ? GateState::kPass
                  : st == "fail" ? GateState::kFail
                                 : GateState::kWait;
      res.detail = gr.Str("detail");
      if (!gr.error.empty()) r.error = gr.error;
      g.gates.push_back(std::move(res));
    }
  }
  if (!r.error.empty()) return MakeError(ErrorCode::kInvalidArgument, r.error);
  return g;
}

std::string EncodeAutopilotRecord(const AutopilotRecord& r) {
  return json::serialize(RecordJson(r));
}

Result<AutopilotRecord> DecodeAutopilotRecord(std::string_view text, std::string_view key) {
  auto v = Parse(text, key);
  if (!v) return tl::unexpected(v.error());
  return RecordFrom(*v, std::string(key));
}

std::string EncodeAutopilotRecords(const std::vector<AutopilotRecord>& rs) {
  json::object groups;
  for (const auto& r : rs) groups[r.group] = RecordJson(r);
  return json::serialize(json::object{{"v", kVersion}, {"groups", std::move(groups)}});
}

Result<std::vector<AutopilotRecord>> DecodeAutopilotRecords(std::string_view text,
                                                            std::string_view key) {
  auto v = Parse(text, key);
  if (!v) return tl::unexpected(v.error());
  const std::string where(key);
  if (!v->is_object() || !v->as_object().contains("groups") ||
      !v->as_object().at("groups").is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "autopilot state " + where + ": groups: missing or not an object");
  }
  std::vector<AutopilotRecord> out;
  for (const auto& [g, rv] : v->as_object().at("groups").as_object()) {
    auto r = RecordFrom(rv, where + " groups." + std::string(g));
    if (!r) return tl::unexpected(r.error());
    if (r->group != g) {
      return MakeError(ErrorCode::kInvalidArgument, "autopilot state " + where + " groups." +
                                                        std::string(g) +
                                                        ".group: does not match its key");
    }
    out.push_back(std::move(*r));
  }
  return out;
}

std::optional<TimelineEntry> RecoverRun(AutopilotRecord& r, const AutopilotSnapshot& snap,
                                        const std::string& who) {
  AutopilotRun& run = r.run;
  if (run.status != RunStatus::kRunning) return std::nullopt;
  if (r.pending && AtStep(r.plan, r.pending->target, snap.shape)) {
    // The change went out and through before the last driver stopped.
    AutopilotDecision d;
    d.kind = r.pending->kind;
    d.target = r.pending->target;
    d.failure = r.pending->failure;
    d.reason = r.pending->reason + " (applied before the " + who + ")";
    d.values = r.pending->values;
    r.pending.reset();
    Commit(r.plan, run, d, snap);
    return run.timeline.back();
  }
  r.pending.reset();
  if (r.pending_align) {
    if (AtStep(r.plan, run.step, snap.shape)) {
      r.pending_align = false;
      Aligned(r.plan, run, snap,
              "plan start: route moved to " + StepLabel(r.plan, run.step) + " (before the " + who +
                  ")");
      return run.timeline.back();
    }
    RestartStep(run, snap);
    return std::nullopt;  // the driver moves the route onto the step next tick
  }
  if (AtStep(r.plan, run.step, snap.shape)) {
    RestartStep(run, snap);
    TimelineEntry e;
    e.at_ms = snap.now_ms;
    e.kind = "recover";
    e.from_step = e.to_step = run.step;
    e.reason = who + ": the plan carries on at " + StepLabel(r.plan, run.step) +
               " (the step's hold time and gate window start again)";
    e.actor = "autopilot";
    run.why = e.reason;
    AddTimeline(run, e);
    return e;
  }
  PauseRun(run,
           who + ": the route is " + ShapeText(snap.shape) + " but the plan was at " +
               StepLabel(r.plan, run.step) + " (resume or abort)",
           "autopilot", snap.now_ms);
  return run.timeline.back();
}

}  // namespace ficus::proxy
