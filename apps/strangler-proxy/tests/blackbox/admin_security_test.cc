// Black-box: admin security for a fleet. Token roles (read, operate), the
// data-bearing read /admin/mismatches behind a token, and /metrics, /healthz,
// /readyz open; through the real ficus-proxy.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

constexpr const char* kYaml = R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0, token_file: ${DIR}/admin.token}
workers: 1
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}}
cohorts:
  users: {key: [query:user_id], salt: "s-1"}
routes:
  - name: r
    match: {method: GET, path: /r}
    cohort: users
    mode: shadow
)";

ParsedResponse AdminCall(const Stack& s, const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body = "") {
  Client c(s.admin_port());
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: a\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return c.RoundTrip(raw);
}

TEST(AdminSecurity, RolesGuardDataBearingReadsAndChanges) {
  Stack s;
  s.StartUpstream("legacy");
  s.StartUpstream("modern");
  std::ofstream(s.dir() + "/admin.token") << "viewer:v-secret:read\nops:o-secret:operate\n";
  s.StartProxy(kYaml);

  // Open: liveness, readiness, metrics, route state.
  EXPECT_EQ(AdminCall(s, "GET", "/healthz", "").status, 200);
  auto ready = AdminCall(s, "GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"ready\""), std::string::npos);
  EXPECT_EQ(AdminCall(s, "GET", "/metrics", "").status, 200);
  EXPECT_EQ(AdminCall(s, "GET", "/admin/routes", "").status, 200);

  // Mismatches hold both stores' answers (users' data): a token is needed.
  auto anon = AdminCall(s, "GET", "/admin/mismatches", "");
  EXPECT_EQ(anon.status, 401) << anon.body;
  EXPECT_TRUE(anon.Header("WWW-Authenticate").has_value());
  EXPECT_EQ(AdminCall(s, "GET", "/admin/mismatches", "wrong").status, 403);
  EXPECT_EQ(AdminCall(s, "GET", "/admin/mismatches", "v-secret").status, 200);
  EXPECT_EQ(AdminCall(s, "GET", "/admin/mismatches", "o-secret").status, 200);

  // A read token may not change anything; an operate token may.
  auto denied = AdminCall(s, "PUT", "/admin/routes/r", "v-secret", R"({"mode":"legacy"})");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("role read"), std::string::npos) << denied.body;
  EXPECT_EQ(AdminCall(s, "GET", "/admin/routes/r", "").Json().at("mode").as_string(), "shadow");
  auto reset = AdminCall(s, "POST", "/admin/routes/r/reset-fallback", "v-secret");
  EXPECT_EQ(reset.status, 403) << reset.body;
  auto ok = AdminCall(s, "PUT", "/admin/routes/r", "o-secret", R"({"mode":"legacy"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(AdminCall(s, "GET", "/admin/routes/r", "").Json().at("mode").as_string(), "legacy");
}

// Every error of the admin listener, from the built-in endpoints, the route
// admin and the autopilot admin alike: {"ret":status,"data":null,"msg":...}.
TEST(AdminSecurity, EveryAdminErrorHasTheOneShape) {
  Stack s;
  s.StartUpstream("legacy");
  s.StartUpstream("modern");
  std::ofstream(s.dir() + "/admin.token") << "ops:o-secret:operate\n";
  s.StartProxy(kYaml);
  struct Case {
    const char* method;
    const char* target;
    const char* token;
    const char* body;
    int status;
  };
  const Case cases[] = {
      {"GET", "/no-such-thing", "", "", 404},
      {"POST", "/metrics", "", "", 405},
      {"GET", "/admin/no-such-thing", "", "", 404},
      {"POST", "/admin/routes", "", "", 405},
      {"PUT", "/admin/routes/r", "", R"({"mode":"legacy"})", 401},
      {"PUT", "/admin/routes/r", "wrong", R"({"mode":"legacy"})", 403},
      {"PUT", "/admin/routes/r", "o-secret", R"({"percent":"lots"})", 400},
      {"PUT", "/admin/routes/nope", "o-secret", R"({"mode":"legacy"})", 404},
      {"GET", "/admin/mismatches?limit=0", "o-secret", "", 400},
      {"POST", "/admin/autopilot", "", "", 405},
      {"POST", "/admin/autopilot/r/start", "", "", 401},
      {"POST", "/admin/autopilot/r/fly", "o-secret", "", 404},
      {"GET", "/admin/autopilot/r?timeline=many", "", "", 400},
  };
  for (const auto& c : cases) {
    const std::string what = std::string(c.method) + " " + c.target;
    auto r = AdminCall(s, c.method, c.target, c.token, c.body);
    EXPECT_EQ(r.status, c.status) << what << ": " << r.body;
    const auto v = r.Json();
    ASSERT_TRUE(v.is_object()) << what << ": " << r.body;
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), 3u) << what << ": exactly ret, data, msg: " << r.body;
    EXPECT_TRUE(o.contains("ret") && o.at("ret").is_int64() && o.at("ret").as_int64() == c.status)
        << what << ": " << r.body;
    EXPECT_TRUE(o.contains("data") && o.at("data").is_null()) << what << ": " << r.body;
    EXPECT_TRUE(o.contains("msg") && o.at("msg").is_string() && !o.at("msg").as_string().empty())
        << what << ": " << r.body;
  }
}

}  // namespace
}  // namespace ficus::proxy::blackbox
