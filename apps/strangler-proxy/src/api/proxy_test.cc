// Proxy over scripted upstreams (no sockets): the request path's steps seen
// from the outside: where a request goes, what is mirrored and reported,
// what is refused, and which answer the client gets.
#include "api/proxy.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>
#include <vector>

#include "ficus/http/request_parser.h"

namespace ficus::proxy {
namespace {

namespace asio = boost::asio;

constexpr const char* kYaml = R"(
backends:
  legacy: {url: http://127.0.0.1:1}
  modern: {url: http://127.0.0.1:2}
cohorts:
  users: {key: [header:X-User-Id], salt: "ficus-1"}
routes:
  - name: update
    match: {method: POST, path: /v1/update}
    rewrite: {modern: /v2/update}
    cohort: users
    mode: shadow
  - name: get
    match: {method: GET, path: /v1/get}
    rewrite: {modern: /v2/get}
    cohort: users
    mode: canary
    percent: 0
  - name: plain
    match: {prefix: /v1/plain/}
    mode: legacy
    upgrade: false
)";

// One exchange the proxy asked for.
struct Sent {
  std::string backend;
  std::string head;
  std::string body;
  bool mirror = false;
};

// Scripted upstreams: every backend answers `answers[name]` (default 200
// "{}"); the request is "on the wire" at once (on_sent runs before the
// answer).
class ScriptedUpstreams final : public http::Exchanger {
 public:
  std::map<std::string, http::ClientResult> answers;
  std::vector<Sent> sent;

  asio::awaitable<http::ClientResult> Exchange(const http::ClientTarget& target,
                                               std::string_view head, std::string_view body, bool,
                                               uint64_t, uint32_t,
                                               const std::function<void()>* on_sent, bool,
                                               bool) override {
    sent.push_back({target.name, std::string(head), std::string(body),
                    head.find("X-Ficus-Mirror: 1") != std::string_view::npos});
    if (on_sent) (*on_sent)();
    co_return AnswerOf(target.name);
  }
  asio::awaitable<http::ClientResult> ExchangeStreamed(const http::ClientTarget& target,
                                                       std::string_view head, http::BodyStream&,
                                                       bool, bool, uint64_t, bool) override {
    sent.push_back({target.name, std::string(head), "", false});
    co_return AnswerOf(target.name);
  }

 private:
  http::ClientResult AnswerOf(const std::string& name) {
    auto it = answers.find(name);
    if (it != answers.end()) return it->second;
    http::ClientResult r;
    r.response.status = 200;
    r.response.body_ = "{\"from\":\"" + name + "\"}";
    return r;
  }
};

http::ClientResult Failed(http::ClientErrorKind kind) {
  http::ClientResult r;
  r.error = kind;
  r.detail = "scripted failure";
  return r;
}

http::ClientResult Status(unsigned status, std::string body = "{}") {
  http::ClientResult r;
  r.response.status = status;
  r.response.body_ = std::move(body);
  return r;
}

struct Hooks final : MirrorSink, DurableWrites, PrimaryObserver, PendingWrites {
  std::vector<std::string> events;  // in order: "dispatched", "dropped:<why>", "completed:<status>"
  std::vector<PrimaryObservation> primaries;
  std::vector<std::string> primary_routes;
  std::optional<std::string> refuse;
  std::string pending_user;     // PendingTowards(user, backend) for this user...
  std::string pending_backend;  // ...and this backend
  MirrorExchange last;

  [[nodiscard]] bool WantsBodies() const override { return true; }
  void OnDispatched(const MirrorExchange&) override { events.emplace_back("dispatched"); }
  void OnDropped(const MirrorExchange& ex, MirrorOutcome why) override {
    last = ex;
    events.push_back(std::string("dropped:") + MirrorOutcomeName(why));
  }
  void OnCompleted(const MirrorExchange& ex, const MirrorResult& r) override {
    last = ex;
    events.push_back("completed:" + std::to_string(r.status) + "/" + MirrorOutcomeName(r.outcome));
  }
  [[nodiscard]] bool NeedsDurableBeforeAnswer(const MirrorExchange&) const override {
    return false;
  }
  void Persist(const MirrorExchange&, bool, std::function<void(uint64_t)> done) override {
    done(0);
  }
  std::optional<std::string> RefuseWrite(std::string_view) override { return refuse; }
  void OnPrimary(const PrimaryObservation& o) override {
    primaries.push_back(o);
    primary_routes.emplace_back(o.route);
  }
  [[nodiscard]] bool PendingTowards(std::string_view user, const std::string& backend,
                                    bool) const override {
    return user == pending_user && backend == pending_backend;
  }
};

class ProxyTest : public ::testing::Test {
 protected:
  ProxyTest()
      : proxy_(metrics_, ProxyHooks{&hooks_, &hooks_, &hooks_, &hooks_}, clock_, access_log_,
               [this](const asio::any_io_executor&) -> http::Exchanger& { return upstreams_; }) {
    auto cfg = ParseConfig(kYaml);
    EXPECT_TRUE(cfg) << cfg.error().message;
    EXPECT_TRUE(proxy_.SetConfig(*cfg));
  }

  // Parses `raw` and runs it through Proxy::Handle to completion (mirrors too).
  http::Response Run(const std::string& raw) {
    http::Request req;
    http::Rejection rej;
    std::size_t consumed = 0;
    http::ParserLimits limits;
    const auto st = http::ParseRequest(raw, limits, &req, &rej, &consumed);
    EXPECT_EQ(st, http::RequestParser::Status::kDone) << rej.message;
    auto fut = asio::co_spawn(ioc_, proxy_.Handle(req), asio::use_future);
    ioc_.restart();
    ioc_.run();
    return fut.get();
  }

  std::vector<Sent> Primaries() const {
    std::vector<Sent> out;
    for (const auto& s : upstreams_.sent) {
      if (!s.mirror) out.push_back(s);
    }
    return out;
  }

  asio::io_context ioc_;
  MetricsRegistry metrics_;
  ManualClock clock_;
  AccessLog access_log_;
  ScriptedUpstreams upstreams_;
  Hooks hooks_;
  Proxy proxy_;
};

bool HasLine(const std::string& head, std::string_view line) {
  return head.find(std::string(line) + "\r\n") != std::string::npos;
}

TEST_F(ProxyTest, UnroutedRequestGoesToTheDefaultBackendUntouchedAndUnreported) {
  auto resp = Run("GET /other?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(resp.status, 200u);
  ASSERT_EQ(upstreams_.sent.size(), 1u);
  EXPECT_EQ(upstreams_.sent[0].backend, "legacy");
  EXPECT_EQ(upstreams_.sent[0].head.rfind("GET /other?a=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_TRUE(hooks_.events.empty());
  EXPECT_TRUE(hooks_.primaries.empty());  // only routed requests are observed
  EXPECT_TRUE(resp.headers.Get("X-Request-Id").has_value());
}

TEST_F(ProxyTest, ShadowWriteServesLegacyAndMirrorsTheSameStampToModern) {
  auto resp =
      Run("POST /v1/update HTTP/1.1\r\nHost: x\r\nX-User-Id: U1\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(resp.status, 200u);
  EXPECT_EQ(resp.body, "{\"from\":\"legacy\"}");
  ASSERT_EQ(upstreams_.sent.size(), 2u);
  const Sent& primary = upstreams_.sent[0];
  const Sent& mirror = upstreams_.sent[1];
  EXPECT_EQ(primary.backend, "legacy");
  EXPECT_FALSE(primary.mirror);
  EXPECT_EQ(primary.head.rfind("POST /v1/update HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(mirror.backend, "modern");
  EXPECT_TRUE(mirror.mirror);
  EXPECT_EQ(mirror.head.rfind("POST /v2/update HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(primary.body, "{}");
  EXPECT_EQ(mirror.body, "{}");
  EXPECT_TRUE(HasLine(primary.head, "X-Ficus-Timestamp: 1700000000000000"));
  EXPECT_TRUE(HasLine(mirror.head, "X-Ficus-Timestamp: 1700000000000000"));
  EXPECT_EQ(hooks_.events, (std::vector<std::string>{"dispatched", "completed:200/ok"}));
  EXPECT_EQ(hooks_.last.mode, Mode::kShadow);
  EXPECT_EQ(hooks_.last.cohort_key, "u1");
  EXPECT_EQ(hooks_.last.primary_status, 200);
  EXPECT_EQ(hooks_.last.primary_body, "{\"from\":\"legacy\"}");
  EXPECT_TRUE(hooks_.last.write);
  ASSERT_EQ(hooks_.primaries.size(), 1u);
  EXPECT_EQ(hooks_.primary_routes[0], "update");
  EXPECT_FALSE(hooks_.primaries[0].modern);
}

TEST_F(ProxyTest, CanaryUserHeaderForcesModernWithTheRewrittenPath) {
  auto resp = Run("GET /v1/get?x=1 HTTP/1.1\r\nHost: x\r\nX-Canary-User: true\r\n\r\n");
  EXPECT_EQ(resp.body, "{\"from\":\"modern\"}");
  ASSERT_EQ(upstreams_.sent.size(), 1u);  // a read in canary is not mirrored
  EXPECT_EQ(upstreams_.sent[0].head.rfind("GET /v2/get?x=1 HTTP/1.1\r\n", 0), 0u);
  ASSERT_EQ(hooks_.primaries.size(), 1u);
  EXPECT_TRUE(hooks_.primaries[0].modern);
}

TEST_F(ProxyTest, BackendFailuresBecome502And504AndAreObserved) {
  upstreams_.answers["legacy"] = Failed(http::ClientErrorKind::kTimeout);
  EXPECT_EQ(Run("GET /v1/get HTTP/1.1\r\nHost: x\r\n\r\n").status, 504u);
  upstreams_.answers["legacy"] = Failed(http::ClientErrorKind::kConnect);
  auto resp = Run("GET /v1/get HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(resp.status, 502u);
  EXPECT_NE(resp.body.find("backend legacy unreachable"), std::string::npos) << resp.body;
  ASSERT_EQ(hooks_.primaries.size(), 2u);
  EXPECT_EQ(hooks_.primaries[0].status, 0);
  EXPECT_TRUE(hooks_.primaries[0].timeout);
  EXPECT_FALSE(hooks_.primaries[1].timeout);
}

TEST_F(ProxyTest, AMirrorThatCannotConnectOpensTheBreakerSoTheNextCopyIsDropped) {
  upstreams_.answers["modern"] = Failed(http::ClientErrorKind::kConnect);
  const std::string req =
      "POST /v1/update HTTP/1.1\r\nHost: x\r\nX-User-Id: U1\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(Run(req).status, 200u);  // the copy's failure never reaches the client
  EXPECT_EQ(Run(req).status, 200u);
  EXPECT_EQ(hooks_.events, (std::vector<std::string>{"dispatched", "completed:0/connect_error",
                                                     "dropped:unhealthy"}));
  EXPECT_EQ(upstreams_.sent.size(), 3u);  // two primaries, one copy
}

TEST_F(ProxyTest, AWriteThatCannotBeKeptIsRefusedBeforeAnythingIsSent) {
  hooks_.refuse = "replay log full";
  // Shadow: the copy goes to modern, which is never refused.
  auto resp = Run("POST /v1/update HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(resp.status, 200u);
  upstreams_.sent.clear();
  // Read-your-writes moves u2's write to modern: its copy goes to legacy.
  hooks_.pending_user = "u2";
  hooks_.pending_backend = "legacy";
  resp = Run("POST /v1/update HTTP/1.1\r\nHost: x\r\nX-User-Id: u2\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(resp.status, 503u);
  EXPECT_EQ(resp.headers.Get("Retry-After"), "5");
  EXPECT_TRUE(upstreams_.sent.empty());
}

TEST_F(ProxyTest, ReadYourWritesServesTheUserFromTheSideThatHasTheWrite) {
  hooks_.pending_user = "u3";
  hooks_.pending_backend = "legacy";
  // A shadow write of u3: legacy may miss u3's earlier write, modern has it:
  // served by modern, mirrored to legacy.
  auto resp =
      Run("POST /v1/update HTTP/1.1\r\nHost: x\r\nX-User-Id: U3\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(resp.body, "{\"from\":\"modern\"}");
  const auto primaries = Primaries();
  ASSERT_EQ(primaries.size(), 1u);
  EXPECT_EQ(primaries[0].head.rfind("POST /v2/update HTTP/1.1\r\n", 0), 0u);
  EXPECT_TRUE(hooks_.last.mirror_to_legacy);
  // Another user is not moved.
  resp = Run("POST /v1/update HTTP/1.1\r\nHost: x\r\nX-User-Id: u4\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(resp.body, "{\"from\":\"legacy\"}");
}

TEST_F(ProxyTest, UpgradeOnARouteThatRefusesItIs403AndNothingIsSent) {
  auto resp = Run(
      "GET /v1/plain/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_EQ(resp.status, 403u);
  EXPECT_TRUE(upstreams_.sent.empty());
}

TEST_F(ProxyTest, BackendStatusAndBodyReachTheClient) {
  upstreams_.answers["legacy"] = Status(404, "{\"ret\":404}");
  auto resp = Run("GET /v1/plain/x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(resp.status, 404u);
  EXPECT_EQ(resp.body, "{\"ret\":404}");
  ASSERT_EQ(hooks_.primaries.size(), 1u);
  EXPECT_EQ(hooks_.primaries[0].status, 404);
}

}  // namespace
}  // namespace ficus::proxy
