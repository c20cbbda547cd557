#include "domain/autopilot_plan.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <initializer_list>

#include "domain/config.h"

namespace ficus::proxy {
namespace {

namespace json = boost::json;

struct PlanError {
  std::string path;
  std::string message;
};

[[noreturn]] void Fail(const std::string& path, const std::string& message) {
  throw PlanError{path, message};
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

const json::object& Object(const json::value& v, const std::string& path,
                           std::initializer_list<std::string_view> allowed) {
  if (!v.is_object()) Fail(path, "must be an object");
  const auto& o = v.get_object();
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : "|") + std::string(a);
      Fail(Join(path, kv.key()), "unknown key (allowed: " + list + ")");
    }
  }
  return o;
}

double Number(const json::value& v, const std::string& path) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  Fail(path, "must be a number");
}

double Between(const json::value& v, const std::string& path, double lo, double hi) {
  const double d = Number(v, path);
  if (!std::isfinite(d) || d < lo || d > hi) {
    Fail(path, "must be a number from " + json::serialize(json::value(lo)) + " to " +
                   json::serialize(json::value(hi)));
  }
  return d;
}

uint32_t Whole(const json::value& v, const std::string& path, uint32_t lo, uint32_t hi) {
  const double d = Number(v, path);
  if (d != std::floor(d) || d < lo || d > hi) {
    Fail(path, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<uint32_t>(d);
}

bool Bool(const json::value& v, const std::string& path) {
  if (!v.is_bool()) Fail(path, "must be true or false");
  return v.get_bool();
}

std::string String(const json::value& v, const std::string& path) {
  if (!v.is_string()) Fail(path, "must be a string");
  return std::string(v.get_string());
}

uint32_t ClockMinutes(const json::value& v, const std::string& path) {
  const std::string s = String(v, path);
  unsigned h = 0;
  unsigned m = 0;
  const auto colon = s.find(':');
  auto bad = [&] { Fail(path, "must be HH:MM (UTC), 00:00 to 24:00"); };
  if (colon == std::string::npos || colon == 0 || s.size() - colon != 3) bad();
  auto r1 = std::from_chars(s.data(), s.data() + colon, h);
  auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), m);
  if (r1.ec != std::errc() || r1.ptr != s.data() + colon || r2.ec != std::errc() ||
      r2.ptr != s.data() + s.size() || m > 59 || h > 24 || (h == 24 && m != 0)) {
    bad();
  }
  return h * 60 + m;
}

void ParseHold(const json::value& v, const std::string& path, AutopilotPlan::Hold& h) {
  const auto& o = Object(v, path, {"min_s", "min_requests"});
  if (auto* x = o.if_contains("min_s")) h.min_s = Whole(*x, Join(path, "min_s"), 0, 7 * 86400);
  if (auto* x = o.if_contains("min_requests")) {
    h.min_requests = Whole(*x, Join(path, "min_requests"), 0, 1u << 30);
  }
}

void ParseUrl(const json::value& v, const std::string& path, std::string& out) {
  out = String(v, path);
  if (auto u = ParseWebhookUrl(out); !u) Fail(path, u.error().message);
}

AutopilotPlan Parse(const json::value& v, const std::string& path) {
  AutopilotPlan p;
  if (v.is_null()) return p;  // `autopilot: {}` or an empty body: every default
  const auto& o = Object(
      v, path,
      {"shadow", "canary", "full", "gates", "check", "window", "on_failure", "notify", "tick_ms"});
  if (auto* s = o.if_contains("shadow")) {
    const auto sp = Join(path, "shadow");
    const auto& so = Object(*s, sp, {"min_compared", "max_mismatch_rate"});
    if (auto* x = so.if_contains("min_compared")) {
      p.shadow.min_compared = Whole(*x, Join(sp, "min_compared"), 0, 1u << 30);
    }
    if (auto* x = so.if_contains("max_mismatch_rate")) {
      p.shadow.max_mismatch_rate = Between(*x, Join(sp, "max_mismatch_rate"), 0, 1);
      p.gates.max_mismatch_rate = p.shadow.max_mismatch_rate;  // unless gates say otherwise
    }
  }
  if (auto* c = o.if_contains("canary")) {
    const auto cp = Join(path, "canary");
    const auto& co = Object(*c, cp, {"steps", "min_s", "min_requests"});
    json::object hold;
    if (auto* x = co.if_contains("min_s")) hold["min_s"] = *x;
    if (auto* x = co.if_contains("min_requests")) hold["min_requests"] = *x;
    ParseHold(hold, cp, p.canary);
    if (auto* st = co.if_contains("steps")) {
      const auto sp = Join(cp, "steps");
      if (!st->is_array()) Fail(sp, "must be a list of percents");
      if (st->get_array().size() > 20) Fail(sp, "at most 20 steps");
      p.canary_steps_bp.clear();
      for (size_t i = 0; i < st->get_array().size(); ++i) {
        const auto ip = sp + "[" + std::to_string(i) + "]";
        const auto& e = st->get_array()[i];
        Result<uint32_t> bp = MakeError(ErrorCode::kInvalidArgument, "");
        if (e.is_string()) {
          bp = ParsePercent(std::string(e.get_string()));
        } else if (e.is_number()) {
          const double d = Number(e, ip) * 100;
          const double r = std::round(d);
          if (std::isfinite(d) && r >= 0 && r <= 10000 && std::fabs(d - r) < 1e-6) {
            bp = static_cast<uint32_t>(r);
          }
        }
        if (!bp || *bp == 0) Fail(ip, "must be a percent above 0, up to 100, two decimals at most");
        if (!p.canary_steps_bp.empty() && *bp <= p.canary_steps_bp.back()) {
          Fail(ip, "must be above the previous step");
        }
        p.canary_steps_bp.push_back(*bp);
      }
    }
  }
  if (auto* f = o.if_contains("full")) ParseHold(*f, Join(path, "full"), p.full);
  if (auto* g = o.if_contains("gates")) {
    const auto gp = Join(path, "gates");
    const auto& go = Object(*g, gp,
                            {"window_s", "min_samples", "min_compared", "error_rate", "p99",
                             "max_mismatch_rate", "drained"});
    auto& G = p.gates;
    if (auto* x = go.if_contains("window_s")) G.window_s = Whole(*x, Join(gp, "window_s"), 1, 3600);
    if (auto* x = go.if_contains("min_samples")) {
      G.min_samples = Whole(*x, Join(gp, "min_samples"), 1, 1u << 30);
    }
    if (auto* x = go.if_contains("min_compared")) {
      G.min_compared = Whole(*x, Join(gp, "min_compared"), 1, 1u << 30);
    }
    if (auto* e = go.if_contains("error_rate")) {
      const auto ep = Join(gp, "error_rate");
      const auto& eo = Object(*e, ep, {"max_increase", "max_ratio"});
      if (auto* x = eo.if_contains("max_increase")) {
        G.max_error_increase = Between(*x, Join(ep, "max_increase"), 0, 1);
      }
      if (auto* x = eo.if_contains("max_ratio")) {
        G.max_error_ratio = Between(*x, Join(ep, "max_ratio"), 1, 1000);
      }
    }
    if (auto* l = go.if_contains("p99")) {
      const auto lp = Join(gp, "p99");
      const auto& lo = Object(*l, lp, {"max_ratio", "slack_ms"});
      if (auto* x = lo.if_contains("max_ratio")) {
        G.max_p99_ratio = Between(*x, Join(lp, "max_ratio"), 1, 1000);
      }
      if (auto* x = lo.if_contains("slack_ms")) {
        G.p99_slack_ms = Between(*x, Join(lp, "slack_ms"), 0, 600000);
      }
    }
    if (auto* x = go.if_contains("max_mismatch_rate")) {
      G.max_mismatch_rate = Between(*x, Join(gp, "max_mismatch_rate"), 0, 1);
    }
    if (auto* x = go.if_contains("drained")) G.drained = Bool(*x, Join(gp, "drained"));
  }
  if (auto* c = o.if_contains("check")) {
    const auto cp = Join(path, "check");
    const auto& co = Object(*c, cp, {"url", "timeout_ms", "interval_s"});
    if (auto* x = co.if_contains("url")) {
      ParseUrl(*x, Join(cp, "url"), p.check.url);
    } else {
      Fail(Join(cp, "url"), "is required");
    }
    if (auto* x = co.if_contains("timeout_ms")) {
      p.check.timeout_ms = Whole(*x, Join(cp, "timeout_ms"), 10, 60000);
    }
    if (auto* x = co.if_contains("interval_s")) {
      p.check.interval_s = Whole(*x, Join(cp, "interval_s"), 1, 3600);
    }
  }
  if (auto* w = o.if_contains("window")) {
    const auto wp = Join(path, "window");
    const auto& wo = Object(*w, wp, {"days", "from", "to"});
    p.window.enabled = true;
    if (auto* d = wo.if_contains("days")) {
      const auto dp = Join(wp, "days");
      if (!d->is_array() || d->get_array().empty()) Fail(dp, "must be a non-empty list of days");
      static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu",
                                                                "fri", "sat", "sun"};
      p.window.days = 0;
      for (size_t i = 0; i < d->get_array().size(); ++i) {
        const auto ip = dp + "[" + std::to_string(i) + "]";
        const std::string s = String(d->get_array()[i], ip);
        auto it = std::find(kDays.begin(), kDays.end(), s);
        if (it == kDays.end()) Fail(ip, "must be one of mon|tue|wed|thu|fri|sat|sun");
        p.window.days |= static_cast<uint8_t>(1u << (it - kDays.begin()));
      }
    }
    if (auto* x = wo.if_contains("from")) p.window.from_min = ClockMinutes(*x, Join(wp, "from"));
    if (auto* x = wo.if_contains("to")) p.window.to_min = ClockMinutes(*x, Join(wp, "to"));
    if (p.window.from_min >= p.window.to_min) Fail(Join(wp, "to"), "must be after from");
  }
  if (auto* f = o.if_contains("on_failure")) {
    const auto fp = Join(path, "on_failure");
    const auto& fo = Object(*f, fp, {"rollback_to", "pause_after"});
    if (auto* x = fo.if_contains("rollback_to")) {
      const auto s = String(*x, Join(fp, "rollback_to"));
      if (s == "last_good") {
        p.rollback_to = AutopilotPlan::RollbackTo::kLastGood;
      } else if (s == "legacy") {
        p.rollback_to = AutopilotPlan::RollbackTo::kLegacy;
      } else {
        Fail(Join(fp, "rollback_to"), "must be last_good or legacy");
      }
    }
    if (auto* x = fo.if_contains("pause_after")) {
      p.pause_after = Whole(*x, Join(fp, "pause_after"), 1, 1000);
    }
  }
  if (auto* n = o.if_contains("notify")) {
    const auto np = Join(path, "notify");
    const auto& no = Object(*n, np, {"url"});
    if (auto* x = no.if_contains("url")) {
      ParseUrl(*x, Join(np, "url"), p.notify_url);
    } else {
      Fail(Join(np, "url"), "is required");
    }
  }
  if (auto* x = o.if_contains("tick_ms")) p.tick_ms = Whole(*x, Join(path, "tick_ms"), 50, 60000);
  return p;
}

}  // namespace

Result<AutopilotPlan> ParseAutopilotPlan(const json::value& v, std::string_view path) {
  try {
    return Parse(v, std::string(path));
  } catch (const PlanError& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     (e.path.empty() ? std::string() : e.path + ": ") + e.message);
  }
}

json::value AutopilotPlanToJson(const AutopilotPlan& p) {
  json::array steps;
  for (auto bp : p.canary_steps_bp) steps.push_back(bp / 100.0);
  auto hhmm = [](uint32_t m) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02u:%02u", (m / 60) % 100, m % 60);
    return std::string(buf);
  };
  json::object o{
      {"shadow",
       {{"min_compared", p.shadow.min_compared},
        {"max_mismatch_rate", p.shadow.max_mismatch_rate}}},
      {"canary",
       {{"steps", steps}, {"min_s", p.canary.min_s}, {"min_requests", p.canary.min_requests}}},
      {"full", {{"min_s", p.full.min_s}, {"min_requests", p.full.min_requests}}},
      {"gates",
       {{"window_s", p.gates.window_s},
        {"min_samples", p.gates.min_samples},
        {"min_compared", p.gates.min_compared},
        {"error_rate",
         {{"max_increase", p.gates.max_error_increase}, {"max_ratio", p.gates.max_error_ratio}}},
        {"p99", {{"max_ratio", p.gates.max_p99_ratio}, {"slack_ms", p.gates.p99_slack_ms}}},
        {"max_mismatch_rate", p.gates.max_mismatch_rate},
        {"drained", p.gates.drained}}},
      {"on_failure",
       {{"rollback_to",
         p.rollback_to == AutopilotPlan::RollbackTo::kLegacy ? "legacy" : "last_good"},
        {"pause_after", p.pause_after}}},
      {"tick_ms", p.tick_ms}};
  if (!p.check.url.empty()) {
    o["check"] = {{"url", p.check.url},
                  {"timeout_ms", p.check.timeout_ms},
                  {"interval_s", p.check.interval_s}};
  }
  if (p.window.enabled) {
    static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu",
                                                              "fri", "sat", "sun"};
    json::array days;
    for (int i = 0; i < 7; ++i) {
      if (p.window.days & (1u << i)) days.push_back(json::string(kDays[i]));
    }
    o["window"] = {
        {"days", days}, {"from", hhmm(p.window.from_min)}, {"to", hhmm(p.window.to_min)}};
  }
  if (!p.notify_url.empty()) o["notify"] = {{"url", p.notify_url}};
  return o;
}

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "must be http://HOST:PORT[/path] with an IP address or localhost");
  };
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return bad();
  std::string_view rest = url.substr(kScheme.size());
  WebhookUrl u;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.target = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  u.host = std::string(rest.substr(0, colon));
  if (u.host == "localhost") u.host = "127.0.0.1";
  const auto port = rest.substr(colon + 1);
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || ptr != port.data() + port.size() || v == 0 || v > 65535) return bad();
  u.port = static_cast<uint16_t>(v);
  for (char c : u.target) {
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t') return bad();
  }
  return u;
}

}  // namespace ficus::proxy
