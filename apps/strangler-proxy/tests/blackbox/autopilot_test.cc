// Black-box: the autopilot on the real ficus-proxy in front of
// real upstream processes (ficus-test-upstream), time-compressed to about a
// second per step. Steady traffic of 400 users (writes then reads) runs
// through the proxy while a plan walks the route group:
//   - a healthy modern reaches full by itself; every acknowledged write is on
//     both backends afterwards and each user's last write is the same on both;
//   - a modern that starts failing at 25% is rolled back to 5% within the
//     gate window, then further, then the plan pauses for a human;
//   - a modern answering wrong data is stopped in shadow (mismatches);
//   - an external check answering 500 holds the plan; 200 lets it go on;
//   - an operator's change pauses the plan; resume puts it back on a step;
//   - a proxy killed with -9 mid-plan finds its run again in the state file
//     beside the config when it starts: the plan carries on where it was
//     and reaches full, every step entered once.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "ops-secret";

std::string Yaml(const std::string& plan_extra) {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0, token_file: ${DIR}/admin.token, audit_log: ${DIR}/audit.log}
workers: 2
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}}
cohorts:
  users: {key: [query:user], salt: "autopilot"}
routes:
  - name: get
    match: {method: GET, path: /p}
    cohort: users
    fallback: {enabled: false}
  - name: put
    match: {method: PUT, path: /p}
    cohort: users
    fallback: {enabled: false}
    autopilot:
      shadow: {min_compared: 30, max_mismatch_rate: 0.02}
      canary: {steps: [5, 25, 100], min_s: 1, min_requests: 40}
      full: {min_s: 1, min_requests: 40}
      # p99 is unit-tested; two identical upstreams on a loaded 2-core box
      # differ by scheduling noise only, so its slack is wide here.
      gates: {window_s: 2, min_samples: 10, min_compared: 10, p99: {slack_ms: 250}}
      tick_ms: 100
)" + plan_extra;
}

const char* kAnswer = R"({"ret":200,"data":{"v":1},"msg":""})";

ParsedResponse AdminCall(const Stack& s, const std::string& method, const std::string& target,
                         const std::string& body = "", const std::string& token = kToken) {
  Client c(s.admin_port());
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: a\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return c.RoundTrip(raw);
}

ParsedResponse Control(const Upstream& u, const std::string& body) {
  Client c(u.port);
  return c.RoundTrip("POST /__test/control HTTP/1.1\r\nHost: u\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
}

json::object Plan(const Stack& s) {
  auto r = AdminCall(s, "GET", "/admin/autopilot/users?timeline=200");
  EXPECT_EQ(r.status, 200) << r.body;
  auto v = r.Json();
  return v.is_object() ? v.as_object() : json::object{};
}

std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

double Num(const json::value& v) {
  return v.is_double()   ? v.as_double()
         : v.is_int64()  ? double(v.as_int64())
         : v.is_uint64() ? double(v.as_uint64())
                         : -1;
}

std::string StepLabel(const json::object& plan) {
  auto* run = plan.if_contains("run");
  if (!run || !run->is_object()) return "";
  return Str(run->as_object(), "step_label");
}

json::object Route(const Stack& s, const std::string& name) {
  auto r = AdminCall(s, "GET", "/admin/routes/" + name, "", "");
  auto v = r.Json();
  return v.is_object() ? v.as_object() : json::object{};
}

// Waits until pred(plan) holds; the last plan seen either way.
json::object WaitPlan(const Stack& s, const std::function<bool(const json::object&)>& pred,
                      milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  json::object p;
  while (Clock::now() < deadline) {
    p = Plan(s);
    if (pred(p)) return p;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return p;
}

// Writes then reads of 400 users through the proxy, ~2 ms apart.
class Traffic {
 public:
  explicit Traffic(uint16_t port) : port_(port), thread_([this] { Run(); }) {}
  ~Traffic() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // user -> ids of its acknowledged (200) writes, in order.
  std::map<std::string, std::vector<std::string>> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  uint64_t errors() const { return errors_; }
  uint64_t requests() const { return requests_; }

 private:
  void Run() {
    Client c(port_);
    uint64_t n = 0;
    std::unique_ptr<Client> conn = std::make_unique<Client>(port_);
    while (!stop_) {
      const std::string user = "u" + std::to_string(n % 400);
      const std::string id = user + "-" + std::to_string(n);
      const std::string body = R"({"id":")" + id + R"("})";
      std::string request = "PUT /p?user=";
      request.append(user)
          .append(" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ")
          .append(std::to_string(body.size()))
          .append("\r\n\r\n")
          .append(body);
      auto w = conn->RoundTrip(request);
      ++requests_;
      if (w.status == 200) {
        std::lock_guard lock(mu_);
        acked_[user].push_back(id);
      } else {
        ++errors_;
        if (w.status < 0) conn = std::make_unique<Client>(port_);
      }
      auto r = conn->RoundTrip("GET /p?user=" + user + " HTTP/1.1\r\nHost: t\r\n\r\n");
      ++requests_;
      if (r.status != 200) {
        ++errors_;
        if (r.status < 0) conn = std::make_unique<Client>(port_);
      }
      ++n;
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> requests_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> acked_;
  std::thread thread_;
};

// Every PUT body id a backend logged, per user, in arrival order.
std::map<std::string, std::vector<std::string>> Writes(const Upstream& u) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& r : u.Requests()) {
    if (r.at("method").as_string() != "PUT") continue;
    boost::system::error_code ec;
    auto body = json::parse(r.at("body").as_string(), ec);
    if (ec || !body.is_object()) continue;
    const std::string id(body.at("id").as_string());
    out[id.substr(0, id.find('-'))].push_back(id);
  }
  return out;
}

std::vector<json::object> AuditLines(const Stack& s) {
  std::vector<json::object> out;
  std::ifstream f(s.dir() + "/audit.log");
  std::string line;
  while (std::getline(f, line)) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

struct Fixture {
  Stack s;
  Upstream* legacy = nullptr;
  Upstream* modern = nullptr;
  explicit Fixture(const std::string& plan_extra, const std::string& modern_answer = kAnswer,
                   const std::function<void(Stack&)>& more = nullptr) {
    legacy = &s.StartUpstream("legacy", {"--answer", kAnswer});
    modern = &s.StartUpstream("modern", {"--answer", modern_answer});
    if (more) more(s);
    std::ofstream(s.dir() + "/admin.token") << "ops:" << kToken << ":operate\n";
    s.StartProxy(Yaml(plan_extra));
  }
  void StartPlan() {
    auto r = AdminCall(s, "POST", "/admin/autopilot/put/start");
    ASSERT_EQ(r.status, 200) << r.body;
  }
};

TEST(Autopilot, HealthyModernReachesFullWithNoLostWrite) {
  Upstream* hook = nullptr;
  Fixture f("      notify: {url: \"http://127.0.0.1:${hook}/slack\"}\n", kAnswer,
            [&](Stack& s) { hook = &s.StartUpstream("hook"); });
  // Bad plans are refused with the key named, and change nothing.
  auto bad = AdminCall(f.s, "POST", "/admin/autopilot/put/start", R"({"canary":{"steps":[25,5]}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("canary.steps[1]: must be above the previous step"), std::string::npos)
      << bad.body;
  EXPECT_EQ(AdminCall(f.s, "POST", "/admin/autopilot/put/start", "", "").status, 401);
  EXPECT_EQ(Str(Plan(f.s), "status"), "not started");

  // Writes acknowledged in mode legacy are not mirrored (the backfill's job):
  // traffic starts once the plan has moved the group to shadow.
  const auto t0 = Clock::now();
  f.StartPlan();
  auto shadow = WaitPlan(
      f.s, [&](const json::object&) { return Str(Route(f.s, "get"), "mode") == "shadow"; },
      milliseconds(5000));
  ASSERT_EQ(Str(Route(f.s, "put"), "mode"), "shadow") << json::serialize(shadow);
  Traffic traffic(f.s.port());
  auto plan = WaitPlan(
      f.s, [](const json::object& p) { return Str(p, "status") != "running"; },
      milliseconds(60000));
  const double took_s = std::chrono::duration<double>(Clock::now() - t0).count();
  traffic.Stop();
  ASSERT_EQ(Str(plan, "status"), "done") << json::serialize(plan);
  EXPECT_NE(Str(plan, "why").find("migration done"), std::string::npos) << Str(plan, "why");
  std::printf("healthy plan: legacy -> full in %.1f s, %llu requests, %llu errors\n", took_s,
              static_cast<unsigned long long>(traffic.requests()),
              static_cast<unsigned long long>(traffic.errors()));
  EXPECT_EQ(traffic.errors(), 0u);
  EXPECT_EQ(Str(Route(f.s, "get"), "mode"), "full");
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "full");

  // The timeline walks every step, in order, with the gate values.
  std::vector<std::string> reached;
  for (const auto& e : plan.at("run").at("timeline").as_array()) {
    const auto& o = e.as_object();
    if (Str(o, "kind") == "advance") reached.push_back(Str(o, "to"));
  }
  EXPECT_EQ(reached,
            (std::vector<std::string>{"shadow", "canary 5%", "canary 25%", "canary 100%", "full"}));
  // Audit: each step change by actor autopilot with the gates that allowed it.
  int changes = 0;
  for (const auto& a : AuditLines(f.s)) {
    if (Str(a, "token") != "autopilot") continue;
    if (auto* ap = a.at("after").as_object().if_contains("autopilot")) {
      ++changes;
      EXPECT_TRUE(ap->as_object().at("gates").as_object().contains("modern_error_rate"));
    }
  }
  EXPECT_EQ(changes, 5);

  // No lost or diverged write: once the replay backlog drained, every
  // acknowledged write is on both sides and each user's last write agrees.
  const auto deadline = Clock::now() + milliseconds(15000);
  for (;;) {
    auto put = Route(f.s, "put");
    if (Num(put.at("backlog")) == 0 && Num(put.at("mirror_inflight")) == 0) break;
    ASSERT_LT(Clock::now(), deadline) << json::serialize(put);
    std::this_thread::sleep_for(milliseconds(100));
  }
  const auto acked = traffic.acked();
  const auto on_legacy = Writes(*f.legacy);
  const auto on_modern = Writes(*f.modern);
  size_t total = 0;
  for (const auto& [user, ids] : acked) {
    const std::set<std::string> l(
        on_legacy.count(user) ? on_legacy.at(user).begin() : std::vector<std::string>{}.begin(),
        on_legacy.count(user) ? on_legacy.at(user).end() : std::vector<std::string>{}.end());
    std::set<std::string> m;
    if (on_modern.count(user)) m.insert(on_modern.at(user).begin(), on_modern.at(user).end());
    for (const auto& id : ids) {
      ++total;
      EXPECT_TRUE(l.count(id)) << "acknowledged write " << id << " missing on legacy";
      EXPECT_TRUE(m.count(id)) << "acknowledged write " << id << " missing on modern";
    }
  }
  EXPECT_GT(total, 500u);
  // Per user, the last acknowledged write is the last one each backend got
  // (a replayed older write arriving after it would leave the stores apart).
  size_t users = 0;
  for (const auto& [user, ids] : acked) {
    ++users;
    ASSERT_TRUE(on_legacy.count(user) && on_modern.count(user)) << user;
    EXPECT_EQ(on_legacy.at(user).back(), ids.back()) << "user " << user << " on legacy";
    EXPECT_EQ(on_modern.at(user).back(), ids.back()) << "user " << user << " on modern";
  }
  std::printf("acknowledged writes checked on both backends: %zu (last write of %zu users)\n",
              total, users);

  // Notifications reached the (Slack-compatible) hook: a "text" field.
  auto note = hook->WaitFor(
      [](const json::object& r) {
        return r.at("body").as_string().find("\"text\":\"[ficus autopilot] users: done") !=
               json::string::npos;
      },
      milliseconds(3000));
  EXPECT_TRUE(note.has_value());
}

TEST(Autopilot, ModernFailingAt25PercentIsRolledBackWithinTheGateWindow) {
  Fixture f("");
  Traffic traffic(f.s.port());
  f.StartPlan();
  auto at25 = WaitPlan(
      f.s, [](const json::object& p) { return StepLabel(p) == "canary 25%"; }, milliseconds(60000));
  ASSERT_EQ(StepLabel(at25), "canary 25%") << json::serialize(at25);
  ASSERT_EQ(Control(*f.modern, R"({"status":500})").status, 200);
  const auto failed_at = Clock::now();
  json::object route;
  for (;;) {
    route = Route(f.s, "put");
    if (Num(route.at("percent")) < 25 || Clock::now() - failed_at > milliseconds(10000)) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const auto rolled_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - failed_at).count();
  std::printf("modern failing at canary 25%%: rolled back to %.0f%% after %lld ms\n",
              Num(route.at("percent")), static_cast<long long>(rolled_ms));
  EXPECT_EQ(Num(route.at("percent")), 5.0) << json::serialize(route);
  EXPECT_EQ(Str(route, "mode"), "canary");
  EXPECT_LT(rolled_ms, 2000 + 1500) << "gate window 2 s + ticks";
  // The rollback carries the gate values that caused it (the plan records it
  // once the change is through: a moment after the route shows it).
  auto plan = WaitPlan(
      f.s,
      [](const json::object& p) {
        return json::serialize(p).find("\"kind\":\"rollback\"") != std::string::npos;
      },
      milliseconds(3000));
  bool found = false;
  for (const auto& e : plan.at("run").at("timeline").as_array()) {
    const auto& o = e.as_object();
    if (Str(o, "kind") != "rollback") continue;
    found = true;
    EXPECT_EQ(Str(o, "from"), "canary 25%");
    EXPECT_EQ(Str(o, "to"), "canary 5%");
    EXPECT_NE(Str(o, "reason").find("error rate modern"), std::string::npos) << Str(o, "reason");
    EXPECT_GT(Num(o.at("gates").at("modern_error_rate")), 0.1);
    break;
  }
  EXPECT_TRUE(found) << json::serialize(plan);
  // Still failing: back to shadow, then a human is asked (pause_after 3).
  plan = WaitPlan(
      f.s, [](const json::object& p) { return Str(p, "status") == "paused"; }, milliseconds(20000));
  EXPECT_EQ(Str(plan, "status"), "paused") << json::serialize(plan);
  EXPECT_NE(Str(plan, "why").find("paused for a human"), std::string::npos) << Str(plan, "why");
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "shadow");
  EXPECT_EQ(Str(Route(f.s, "get"), "mode"), "shadow");
}

TEST(Autopilot, WrongDataIsStoppedInShadow) {
  Fixture f("", R"({"ret":200,"data":{"v":2},"msg":""})");
  Traffic traffic(f.s.port());
  f.StartPlan();
  auto plan = WaitPlan(
      f.s, [](const json::object& p) { return Str(p, "status") == "paused"; }, milliseconds(20000));
  EXPECT_EQ(Str(plan, "status"), "paused") << json::serialize(plan);
  EXPECT_EQ(StepLabel(plan), "shadow");
  EXPECT_NE(Str(plan, "why").find("mismatch rate 1.000"), std::string::npos) << Str(plan, "why");
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "shadow");
  for (const auto& a : AuditLines(f.s)) {
    EXPECT_EQ(json::serialize(a).find("canary"), std::string::npos) << json::serialize(a);
  }
}

TEST(Autopilot, ExternalCheckAnswering500HoldsThePlan) {
  Upstream* check = nullptr;
  Fixture f(
      "      check: {url: \"http://127.0.0.1:${check}/verify\", timeout_ms: 500, "
      "interval_s: 1}\n",
      kAnswer, [&](Stack& s) {
        check = &s.StartUpstream("check", {"--status", "500"});
      });
  Traffic traffic(f.s.port());
  f.StartPlan();
  auto held = WaitPlan(
      f.s,
      [](const json::object& p) {
        return Str(p, "why").find("check failed: HTTP 500") != std::string::npos;
      },
      milliseconds(20000));
  ASSERT_NE(Str(held, "why").find("check failed: HTTP 500"), std::string::npos)
      << json::serialize(held);
  std::this_thread::sleep_for(milliseconds(3000));  // it would have advanced 3 times by now
  auto plan = Plan(f.s);
  EXPECT_EQ(Str(plan, "status"), "running");
  EXPECT_EQ(StepLabel(plan), "shadow");
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "shadow");
  EXPECT_GE(check->Requests().size(), 2u);  // asked again, every interval_s
  // The check passes: the plan moves on.
  ASSERT_EQ(Control(*check, R"({"status":204})").status, 200);
  plan = WaitPlan(
      f.s, [](const json::object& p) { return StepLabel(p) == "canary 5%"; }, milliseconds(10000));
  EXPECT_EQ(StepLabel(plan), "canary 5%") << json::serialize(plan);
}

TEST(Autopilot, ManualChangePausesAndResumePutsItBackOnAStep) {
  Fixture f("");
  Traffic traffic(f.s.port());
  f.StartPlan();
  auto plan = WaitPlan(
      f.s, [](const json::object& p) { return StepLabel(p) == "canary 5%"; }, milliseconds(30000));
  ASSERT_EQ(StepLabel(plan), "canary 5%") << json::serialize(plan);
  auto put = AdminCall(f.s, "PUT", "/admin/routes/get", R"({"percent":10})");
  ASSERT_EQ(put.status, 200) << put.body;
  plan = Plan(f.s);
  EXPECT_EQ(Str(plan, "status"), "paused");
  EXPECT_NE(Str(plan, "why").find("manual change by ops"), std::string::npos) << Str(plan, "why");
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(Num(Route(f.s, "put").at("percent")), 10.0);  // left alone while paused
  EXPECT_EQ(AdminCall(f.s, "POST", "/admin/autopilot/users/start").status, 409);
  auto resumed = AdminCall(f.s, "POST", "/admin/autopilot/users/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  plan = WaitPlan(
      f.s, [](const json::object& p) { return StepLabel(p) == "canary 25%"; }, milliseconds(30000));
  EXPECT_EQ(StepLabel(plan), "canary 25%") << json::serialize(plan);
  EXPECT_EQ(AdminCall(f.s, "POST", "/admin/autopilot/users/abort").status, 200);
  EXPECT_EQ(Str(Plan(f.s), "status"), "aborted");
}

std::vector<std::string> Entered(const json::object& plan) {
  std::vector<std::string> out;
  for (const auto& e : plan.at("run").at("timeline").as_array()) {
    const auto& o = e.as_object();
    if (Str(o, "kind") == "advance") out.push_back(Str(o, "to"));
  }
  return out;
}

TEST(Autopilot, KilledProxyCarriesOnWithThePlanItWasRunning) {
  Fixture f("");
  {
    Traffic traffic(f.s.port());
    f.StartPlan();
    auto at25 = WaitPlan(
        f.s, [](const json::object& p) { return StepLabel(p) == "canary 25%"; },
        milliseconds(60000));
    ASSERT_EQ(StepLabel(at25), "canary 25%") << json::serialize(at25);
  }
  f.s.proxy().Signal(SIGKILL);
  ASSERT_TRUE(f.s.proxy().Wait(milliseconds(5000)).has_value());
  std::ifstream state(f.s.dir() + "/autopilot-state.json");
  ASSERT_TRUE(state.good()) << "no autopilot state beside the config";
  f.s.RestartProxy();
  auto plan = Plan(f.s);
  EXPECT_EQ(Str(plan, "status"), "running") << json::serialize(plan);
  EXPECT_EQ(StepLabel(plan), "canary 25%");
  EXPECT_NE(Str(plan, "why").find("restart: the plan carries on at canary 25%"), std::string::npos)
      << Str(plan, "why");
  Traffic traffic(f.s.port());
  plan = WaitPlan(
      f.s, [](const json::object& p) { return Str(p, "status") != "running"; },
      milliseconds(60000));
  traffic.Stop();
  ASSERT_EQ(Str(plan, "status"), "done") << json::serialize(plan);
  EXPECT_EQ(Entered(plan),
            (std::vector<std::string>{"shadow", "canary 5%", "canary 25%", "canary 100%", "full"}))
      << json::serialize(plan);
  EXPECT_EQ(traffic.errors(), 0u);
  // Restarted once more, a finished plan stays finished (nothing moves).
  f.s.proxy().Signal(SIGKILL);
  ASSERT_TRUE(f.s.proxy().Wait(milliseconds(5000)).has_value());
  f.s.RestartProxy();
  plan = Plan(f.s);
  EXPECT_EQ(Str(plan, "status"), "done");
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "full");
}

TEST(Autopilot, RouteMovedWhileTheProxyWasDownPausesThePlanWithTheReason) {
  Fixture f("");
  {
    Traffic traffic(f.s.port());
    f.StartPlan();
    auto at5 = WaitPlan(
        f.s, [](const json::object& p) { return StepLabel(p) == "canary 5%"; },
        milliseconds(60000));
    ASSERT_EQ(StepLabel(at5), "canary 5%") << json::serialize(at5);
  }
  f.s.proxy().Signal(SIGKILL);
  ASSERT_TRUE(f.s.proxy().Wait(milliseconds(5000)).has_value());
  // Someone edits the file while the proxy is down: both routes to shadow.
  std::ifstream in(f.s.config_path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t n = 0;
  for (size_t at = text.find("mode: canary"); at != std::string::npos;
       at = text.find("mode: canary", at)) {
    text.replace(at, 12, "mode: shadow");
    ++n;
  }
  ASSERT_EQ(n, 2u) << text;
  std::ofstream(f.s.config_path()) << text;
  f.s.RestartProxy();
  auto plan = Plan(f.s);
  EXPECT_EQ(Str(plan, "status"), "paused") << json::serialize(plan);
  EXPECT_EQ(Str(plan, "why"),
            "restart: the route is shadow but the plan was at canary 5% (resume or abort)");
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(Str(Route(f.s, "put"), "mode"), "shadow");  // left alone while paused
}

}  // namespace
}  // namespace ficus::proxy::blackbox
