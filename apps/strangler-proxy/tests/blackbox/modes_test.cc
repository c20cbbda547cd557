// Black-box: every mode, rewrite, cohort routing, header handling and the
// 502/504 envelopes, through the real ficus-proxy in front of two real
// ficus-test-upstream processes.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "domain/cohort.h"
#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kYaml = R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: ${DIR}/access.log
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}, response_timeout_ms: 400}
  dead: {url: http://127.0.0.1:${DEAD}}
cohorts:
  users: {key: [header:X-User-Id, query:user_id, json:user_id], salt: "bb-1"}
routes:
  - name: r-legacy
    match: {method: POST, path: /m/legacy}
    rewrite: {modern: /m2/legacy}
    mode: legacy
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: users
    mode: shadow
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: users
    mode: shadow
  - name: c-update
    match: {method: POST, path: /c/update}
    rewrite: {modern: /c2/update}
    cohort: users
    mode: canary
    percent: 10
  - name: c-get
    match: {method: GET, path: /c/get}
    rewrite: {modern: /c2/get}
    cohort: users
    mode: canary
    percent: 10
  - name: f-update
    match: {method: POST, path: /f/update}
    rewrite: {modern: /f2/update}
    mode: full
  - name: f-get
    match: {method: GET, path: /f/get}
    rewrite: {modern: /f2/get}
    mode: full
  - name: to-dead
    match: {prefix: /dead/}
    mode: full
    backends: {modern: dead}
    mirror: {full_to_legacy: false}
  - name: to-slow
    match: {prefix: /slow/}
    mode: full
    mirror: {full_to_legacy: false}
)";

class ModesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = new Stack();
    legacy_ = &stack_->StartUpstream("legacy");
    modern_ = &stack_->StartUpstream("modern");
    stack_->StartProxy(kYaml);
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  // A request with a unique X-Request-Id so its copies can be found in the logs.
  static std::string Req(const std::string& method, const std::string& target,
                         const std::string& id, const std::string& extra_headers = "",
                         const std::string& body = "") {
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: proxy.test\r\nX-Request-Id: " + id +
                    "\r\n" + extra_headers;
    if (!body.empty() || method == "POST") {
      r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
    }
    return r + "\r\n" + body;
  }
  static std::string NextId() { return "bb-" + std::to_string(++seq_); }
  static auto ById(const std::string& id) {
    return [id](const json::object& o) { return EchoHeader(o, "X-Request-Id") == id; };
  }
  // Waits briefly and asserts that no request with this id reached `up`.
  static void ExpectNever(const Upstream& up, const std::string& id) {
    EXPECT_FALSE(up.WaitFor(ById(id), 300ms)) << up.name << " got " << id;
  }
  static std::string UserIn(bool in) {
    std::mt19937_64 rng(in ? 11 : 12);
    for (;;) {
      auto id = "user-" + std::to_string(rng());
      if ((CohortBucket("bb-1", NormalizeCohortKey(id)) < 1000) == in) return id;
    }
  }

  static Stack* stack_;
  static Upstream* legacy_;
  static Upstream* modern_;
  static int seq_;
};
Stack* ModesTest::stack_ = nullptr;
Upstream* ModesTest::legacy_ = nullptr;
Upstream* ModesTest::modern_ = nullptr;
int ModesTest::seq_ = 0;

TEST_F(ModesTest, LegacyModeServesLegacyAndMirrorsNothing) {
  const auto id = NextId();
  auto r = stack_->Request(Req("POST", "/m/legacy?x=1", id, "", "{}"));
  ASSERT_EQ(r.status, 200) << r.raw;
  auto echo = r.Json().as_object();
  EXPECT_EQ(echo.at("upstream").as_string(), "legacy");
  EXPECT_EQ(echo.at("target").as_string(), "/m/legacy?x=1");
  EXPECT_EQ(echo.at("body").as_string(), "{}");
  ExpectNever(*modern_, id);
}

TEST_F(ModesTest, UnmatchedRequestGoesToDefaultBackendUntouched) {
  const auto id = NextId();
  auto r = stack_->Request(Req("GET", "/api/v1/user/info?user_id=a%20b&z", id));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "legacy");
  EXPECT_EQ(r.Json().as_object().at("target").as_string(), "/api/v1/user/info?user_id=a%20b&z");
  ExpectNever(*modern_, id);
}

TEST_F(ModesTest, ShadowServesLegacyAndMirrorsRewrittenWriteToModern) {
  const auto id = NextId();
  const std::string body = R"({"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","attributes":{}})";
  auto r = stack_->Request(Req("POST", "/api/v1/profile/update", id, "", body));
  ASSERT_EQ(r.status, 200) << r.raw;
  auto primary = r.Json().as_object();
  EXPECT_EQ(primary.at("upstream").as_string(), "legacy");
  EXPECT_EQ(primary.at("target").as_string(), "/api/v1/profile/update");
  EXPECT_EQ(EchoHeader(primary, "X-Ficus-Mirror"), std::nullopt);
  auto mirror = modern_->WaitFor(ById(id));
  ASSERT_TRUE(mirror) << "modern never got the mirror";
  EXPECT_EQ(mirror->at("target").as_string(), "/api/v2/profile/update");
  EXPECT_EQ(mirror->at("body").as_string(), body);
  EXPECT_EQ(EchoHeader(*mirror, "X-Ficus-Mirror"), "1");
  // Both sides stamp the write identically.
  EXPECT_TRUE(EchoHeader(primary, "X-Ficus-Timestamp"));
  EXPECT_EQ(EchoHeader(*mirror, "X-Ficus-Timestamp"), EchoHeader(primary, "X-Ficus-Timestamp"));
  // The primary is never served twice: legacy saw it once.
  int n = 0;
  for (auto& o : legacy_->Requests()) n += ById(id)(o) ? 1 : 0;
  EXPECT_EQ(n, 1);
}

TEST_F(ModesTest, ShadowMirrorsReadsWithQuery) {
  const auto id = NextId();
  auto r = stack_->Request(Req("GET", "/api/v1/profile/get?user_id=U1", id));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "legacy");
  auto mirror = modern_->WaitFor(ById(id));
  ASSERT_TRUE(mirror);
  EXPECT_EQ(mirror->at("target").as_string(), "/api/v2/profile/get?user_id=U1");
  EXPECT_EQ(EchoHeader(*mirror, "X-Ficus-Timestamp"), std::nullopt);  // reads are not stamped
}

TEST_F(ModesTest, CanaryCohortUserIsServedByModernAndMirroredBackToLegacy) {
  const auto user = UserIn(true);
  const auto id = NextId();
  auto r = stack_->Request(Req("POST", "/c/update", id, "X-User-Id: " + user + "\r\n", "{}"));
  ASSERT_EQ(r.status, 200);
  auto primary = r.Json().as_object();
  EXPECT_EQ(primary.at("upstream").as_string(), "modern");
  EXPECT_EQ(primary.at("target").as_string(), "/c2/update");
  auto mirror = legacy_->WaitFor(ById(id));
  ASSERT_TRUE(mirror) << "write of a cohort user must be mirrored back to legacy";
  EXPECT_EQ(mirror->at("target").as_string(), "/c/update");
}

TEST_F(ModesTest, CanaryOtherUserIsServedByLegacyAndMirroredToModern) {
  const auto user = UserIn(false);
  const auto id = NextId();
  auto r = stack_->Request(Req("POST", "/c/update", id, "X-User-Id: " + user + "\r\n", "{}"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "legacy");
  auto mirror = modern_->WaitFor(ById(id));
  ASSERT_TRUE(mirror);
  EXPECT_EQ(mirror->at("target").as_string(), "/c2/update");
}

TEST_F(ModesTest, CanaryHeaderForcesModern) {
  const auto id = NextId();
  auto r =
      stack_->Request(Req("POST", "/c/update", id,
                          "X-User-Id: " + UserIn(false) + "\r\nX-Canary-User: true\r\n", "{}"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "modern");
  // Without a key at all, the forced request still goes to modern.
  auto r2 = stack_->Request(Req("POST", "/c/update", NextId(), "X-Canary-User: TRUE\r\n", "{}"));
  EXPECT_EQ(r2.Json().as_object().at("upstream").as_string(), "modern");
}

TEST_F(ModesTest, CanaryRequestWithoutKeyGoesToLegacy) {
  auto r = stack_->Request(Req("POST", "/c/update", NextId(), "", "{}"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "legacy");
}

TEST_F(ModesTest, CanaryRoutesEveryUserByTheDocumentedHashFromAnySource) {
  // Header, query and JSON body keys; reads and writes of one user agree.
  std::mt19937_64 rng(99);
  int to_modern = 0;
  for (int i = 0; i < 60; ++i) {
    const auto user = "U-" + std::to_string(rng());
    const bool in = CohortBucket("bb-1", NormalizeCohortKey(user)) < 1000;
    const char* want = in ? "modern" : "legacy";
    std::string req;
    switch (i % 3) {
      case 0:
        req = Req("POST", "/c/update", NextId(), "X-User-Id: " + user + "\r\n", "{}");
        break;
      case 1:
        req = Req("GET", "/c/get?user_id=" + user, NextId());
        break;
      default:
        req = Req("POST", "/c/update", NextId(), "", R"({"user_id":")" + user + "\"}");
    }
    auto r = stack_->Request(req);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), want) << user << " case " << i % 3;
    auto read = stack_->Request(Req("GET", "/c/get?user_id=" + user, NextId()));
    EXPECT_EQ(read.Json().as_object().at("upstream").as_string(), want) << "read of " << user;
    to_modern += in;
  }
  EXPECT_GT(to_modern, 0);
}

TEST_F(ModesTest, CanaryDoesNotMirrorReads) {
  const auto id = NextId();
  auto r = stack_->Request(Req("GET", "/c/get?user_id=" + UserIn(false), id));
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "legacy");
  ExpectNever(*modern_, id);
}

TEST_F(ModesTest, FullServesModernAndMirrorsWritesToLegacy) {
  const auto id = NextId();
  auto r = stack_->Request(Req("POST", "/f/update", id, "", "{\"a\":1}"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json().as_object().at("upstream").as_string(), "modern");
  EXPECT_EQ(r.Json().as_object().at("target").as_string(), "/f2/update");
  auto mirror = legacy_->WaitFor(ById(id));
  ASSERT_TRUE(mirror);
  EXPECT_EQ(mirror->at("target").as_string(), "/f/update");
  const auto rid = NextId();
  auto read = stack_->Request(Req("GET", "/f/get", rid));
  EXPECT_EQ(read.Json().as_object().at("upstream").as_string(), "modern");
  ExpectNever(*legacy_, rid);
}

TEST_F(ModesTest, ForwardingHeadersAreOverwrittenAndHopByHopStripped) {
  const auto id = "client-id-1";
  auto r = stack_->Request(Req("POST", "/api/v1/profile/update", id,
                               "X-Forwarded-For: 203.0.113.7\r\n"
                               "X-Forwarded-Proto: https\r\n"
                               "X-Ficus-Timestamp: 1\r\n"
                               "X-Ficus-Mirror: 1\r\n"
                               "Connection: keep-alive, X-Hop\r\n"
                               "X-Hop: secret\r\n"
                               "Keep-Alive: timeout=5\r\n"
                               "TE: trailers\r\n"
                               "Upgrade: h2c\r\n"
                               "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                               "X-Kept: yes\r\n",
                               "{}"));
  ASSERT_EQ(r.status, 200) << r.raw;
  auto echo = r.Json().as_object();
  // The client is no trusted hop (forwarded.trusted is empty): its list is
  // replaced, never appended to (forwarded_test.cc has the trusted cases).
  EXPECT_EQ(EchoHeader(echo, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(EchoHeader(echo, "X-Forwarded-Proto"), "http");
  EXPECT_EQ(EchoHeader(echo, "X-Request-Id"), id);
  EXPECT_EQ(EchoHeader(echo, "X-Kept"), "yes");
  const auto ts = EchoHeader(echo, "X-Ficus-Timestamp");
  ASSERT_TRUE(ts);
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_NEAR(static_cast<double>(std::stoll(*ts)), static_cast<double>(now_us), 60e6)
      << "the client's X-Ficus-Timestamp: 1 must be replaced by the proxy's clock";
  for (const char* hop : {"X-Hop", "Keep-Alive", "TE", "Upgrade", "Proxy-Authorization",
                          "X-Ficus-Mirror", "Transfer-Encoding"}) {
    EXPECT_EQ(EchoHeader(echo, hop), std::nullopt) << hop << " reached the backend";
  }
  int ts_fields = 0;
  for (const auto& f : echo.at("headers").as_array()) {
    ts_fields += f.as_array()[0].as_string() == "X-Ficus-Timestamp" ? 1 : 0;
  }
  EXPECT_EQ(ts_fields, 1);
  // Response side: the id comes back, the upstream's hop-by-hop field does not.
  EXPECT_EQ(r.Header("X-Request-Id"), id);
  EXPECT_EQ(r.Header("X-Upstream"), "legacy");
  EXPECT_EQ(r.Header("Proxy-Authenticate"), std::nullopt);
}

TEST_F(ModesTest, MissingOrInvalidRequestIdIsGenerated) {
  auto r = stack_->Request("GET /api/v1/user/info HTTP/1.1\r\nHost: a\r\nX-Request-Id: " +
                           std::string(200, 'x') + "\r\n\r\n");
  ASSERT_EQ(r.status, 200);
  const auto sent = EchoHeader(r.Json().as_object(), "X-Request-Id");
  ASSERT_TRUE(sent);
  EXPECT_NE(*sent, std::string(200, 'x'));
  EXPECT_FALSE(sent->empty());
  EXPECT_EQ(r.Header("X-Request-Id"), sent);
  auto r2 = stack_->Request("GET /api/v1/user/info HTTP/1.1\r\nHost: a\r\n\r\n");
  const auto sent2 = EchoHeader(r2.Json().as_object(), "X-Request-Id");
  ASSERT_TRUE(sent2);
  EXPECT_NE(*sent2, *sent);
}

TEST_F(ModesTest, HttpTenClientWithoutHostReachesAStrictBackend) {
  // The upstream request is HTTP/1.1, which needs a Host (fuzzer finding).
  auto r = stack_->Request("GET /api/v1/user/info HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(EchoHeader(r.Json().as_object(), "Host"));
}

TEST_F(ModesTest, DeadBackendIs502Envelope) {
  auto r = stack_->Request(Req("GET", "/dead/x", NextId()));
  EXPECT_EQ(r.status, 502) << r.raw;
  auto env = r.Json().as_object();
  EXPECT_EQ(env.at("ret").as_int64(), 502);
  EXPECT_TRUE(env.at("data").is_null());
  EXPECT_NE(std::string(env.at("msg").as_string()).find("dead"), std::string::npos)
      << "the message names the backend: " << env.at("msg");
  EXPECT_NE(r.Header("Content-Type")->find("application/json"), std::string::npos);
}

TEST_F(ModesTest, SlowBackendIs504EnvelopeAtItsResponseTimeout) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = stack_->Request(Req("GET", "/slow/x", NextId(), "X-Test-Delay-Ms: 3000\r\n"));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504) << r.raw;
  EXPECT_EQ(r.Json().as_object().at("ret").as_int64(), 504);
  EXPECT_NE(std::string(r.Json().as_object().at("msg").as_string()).find("modern"),
            std::string::npos);
  EXPECT_GE(took, 390ms);
  EXPECT_LT(took, 2000ms) << "response_timeout_ms is 400";
  // The connection stays usable for the next request.
  EXPECT_EQ(stack_->Request(Req("GET", "/slow/y", NextId())).status, 200);
}

TEST_F(ModesTest, AccessLogNamesRouteBackendModeCohortAndMirror) {
  const auto id = NextId();
  ASSERT_EQ(stack_->Request(Req("POST", "/api/v1/profile/update", id, "", "{}")).status, 200);
  ASSERT_TRUE(modern_->WaitFor(ById(id)));
  // The access log is flushed about once a second.
  std::string line;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (line.empty() && std::chrono::steady_clock::now() < until) {
    std::ifstream in(stack_->access_log_path());
    for (std::string l; std::getline(in, l);) {
      if (l.find("\"id\":\"" + id + "\"") != std::string::npos &&
          l.find("\"kind\":\"mirror\"") == std::string::npos)
        line = l;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(line.empty());
  for (const char* want :
       {R"("route":"profile-update")", R"("backend":"legacy")", R"("mode":"shadow")",
        R"("status":200)", R"("mirror":"dispatched")", R"("cohort":)", R"("latency_us":)"}) {
    EXPECT_NE(line.find(want), std::string::npos) << want << " missing in " << line;
  }
}

TEST_F(ModesTest, MetricsCountPerRouteAndBackend) {
  ASSERT_EQ(stack_->Request(Req("POST", "/f/update", NextId(), "", "{}")).status, 200);
  ASSERT_EQ(stack_->Request(Req("GET", "/dead/m", NextId())).status, 502);
  EXPECT_GE(
      stack_->Metric(
          R"(ficus_proxy_requests_total{route="f-update",backend="modern",role="modern",class="2xx"})"),
      1);
  EXPECT_GE(
      stack_->Metric(
          R"(ficus_proxy_backend_errors_total{route="to-dead",backend="dead",role="modern",kind="connect"})"),
      1);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
