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

}  // namespace
}  // namespace ficus::proxy::blackbox
