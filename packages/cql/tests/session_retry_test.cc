// Session retry policy, host state and speculative execution against
// ScriptedCqlPeer nodes (TEST DOUBLES speaking CQL v4 over real TCP on
// 127.0.0.1..3; not a database): a connection reset in the middle of a
// request, a client-side timeout, each retryable error code, a
// non-retryable one, non-idempotent statements never retried, the deadline,
// host down/up, and a speculative second attempt.
#include <gtest/gtest.h>

#include <map>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/session.h"
#include "ficus/cql/types.h"
#include "run_coro.h"
#include "scripted_cql_peer.h"

namespace ficus::cql {
namespace {

namespace asio = boost::asio;
using testing::PeerReply;
using testing::PeerRequest;
using testing::RunCo;
using testing::ScriptedCqlPeer;
using namespace std::chrono_literals;

const std::string kInsert = "INSERT INTO ks.t (k, v) VALUES (?, ?) USING TIMESTAMP ?";

// Three nodes, RF 3 in spirit: any node can coordinate any key. Key "a"
// hashes to a token; its owner is the node that must fail first.
struct Cluster {
  Cluster()
      : n1({.address = "127.0.0.1",
            .tokens = {-3000000000000000000},
            .peers = {{"127.0.0.2", "dc1", {0}}, {"127.0.0.3", "dc1", {3000000000000000000}}}}),
        n2({.address = "127.0.0.2", .port = n1.port(), .tokens = {0}}),
        n3({.address = "127.0.0.3", .port = n1.port(), .tokens = {3000000000000000000}}) {
    std::vector<ColumnSpec> bind = {{"ks", "t", "k", {type_id::kVarchar}},
                                    {"ks", "t", "v", {type_id::kVarchar}}};
    for (auto* n : {&n1, &n2, &n3}) n->DefineStatement(kInsert, bind, {0});
  }
  ScriptedCqlPeer* ByAddress(const std::string& a) {
    return a == "127.0.0.1" ? &n1 : a == "127.0.0.2" ? &n2 : &n3;
  }
  std::size_t Executes() const {
    return n1.Requests(Opcode::kExecute).size() + n2.Requests(Opcode::kExecute).size() +
           n3.Requests(Opcode::kExecute).size();
  }
  ScriptedCqlPeer n1, n2, n3;
};

struct Client {
  explicit Client(Cluster& c, SessionOptions o = {}) {
    o.contact_points = {"127.0.0.1:" + std::to_string(c.n1.port())};
    o.random_seed = 7;
    auto s = RunCo(io, Session::Connect(io.get_executor(), o));
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return;
    session = *s;
    auto p = RunCo(io, session->Prepare(kInsert));
    EXPECT_TRUE(p) << p.error().message;
    if (p) insert = *p;
  }
  ~Client() {
    if (session) session->Close();
  }
  Result<ResultBody> Exec(const std::string& key, ExecOptions o) {
    std::vector<Value> v = {Value::Of(EncodeText(key)), Value::Of(EncodeText("v"))};
    return RunCo(io, session->Execute(insert, std::move(v), std::move(o)));
  }
  std::string OwnerOf(const std::string& key) const {
    return session->RouteOf(Murmur3Token(AsBytes(key)))->first;
  }
  bool Up(const std::string& address) const {
    for (const auto& h : session->Hosts()) {
      if (h.address == address) return h.up;
    }
    return false;
  }
  asio::io_context io;
  std::shared_ptr<Session> session;
  PreparedPtr insert;
};

ExecOptions Idempotent() {
  ExecOptions o;
  o.idempotent = true;
  return o;
}

// The owner's node answers every EXECUTE with `reply`.
void OnExecute(ScriptedCqlPeer& node, PeerReply reply) {
  node.SetHandler([reply = std::move(reply)](const PeerRequest& r) -> std::optional<PeerReply> {
    if (std::holds_alternative<ExecuteRequest>(r.request)) return reply;
    return std::nullopt;
  });
}

PeerReply Close() {
  PeerReply r;
  r.close = true;
  return r;
}
PeerReply ErrorReply(std::int32_t code) {
  PeerReply r;
  r.response = ErrorResponse{code, "scripted"};
  return r;
}

TEST(CqlSessionRetry, ResetMidRequestRetriesIdempotentOnTheNextHostAndMarksTheHostDown) {
  Cluster c;
  Client cl(c, {.reconnect_base = 300ms, .reconnect_max = 300ms});
  ASSERT_TRUE(cl.session);
  const std::string owner = cl.OwnerOf("a");
  ScriptedCqlPeer* bad = c.ByAddress(owner);
  OnExecute(*bad, Close());
  auto r = cl.Exec("a", Idempotent());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(bad->Requests(Opcode::kExecute).size(), 1u);  // it got it, then reset
  EXPECT_EQ(c.Executes(), 2u);                            // and one other host answered
  EXPECT_EQ(cl.session->stats().retries, 1u);
  // Marked down at once: the next request for its key goes elsewhere
  // without trying it first.
  EXPECT_FALSE(cl.Up(owner));
  EXPECT_EQ(cl.session->stats().host_down, 1u);
  r = cl.Exec("a", Idempotent());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(bad->Requests(Opcode::kExecute).size(), 1u);
  EXPECT_EQ(cl.session->stats().retries, 1u);
  // The background probe (reconnect with backoff) brings it back.
  bad->SetHandler(nullptr);
  testing::Pump(cl.io, 800ms);
  EXPECT_TRUE(cl.Up(owner));
  EXPECT_EQ(cl.session->stats().host_up, 1u);
  r = cl.Exec("a", Idempotent());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(bad->Requests(Opcode::kExecute).size(), 2u);  // traffic returned to it
}

TEST(CqlSessionRetry, NonIdempotentIsNeverRetried) {
  Cluster c;
  Client cl(c, {.reconnect_base = 20ms, .reconnect_max = 40ms});
  ASSERT_TRUE(cl.session);
  ScriptedCqlPeer* owner = c.ByAddress(cl.OwnerOf("a"));
  OnExecute(*owner, Close());
  auto r = cl.Exec("a", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(c.Executes(), 1u);  // may have been applied: not sent again
  EXPECT_EQ(cl.session->stats().retries, 0u);
  testing::Pump(cl.io, 600ms);  // reconnected: the owner is up again
  ASSERT_TRUE(cl.Up(cl.OwnerOf("a")));

  for (std::int32_t code : {0x1001, 0x1002, 0x1000}) {  // nor on a retryable error code
    OnExecute(*owner, ErrorReply(code));
    const std::size_t before = c.Executes();
    r = cl.Exec("a", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << code;
    EXPECT_EQ(c.Executes(), before + 1) << code;
    EXPECT_EQ(cl.session->stats().retries, 0u) << code;
  }
}

TEST(CqlSessionRetry, ClientTimeoutRetriesOnTheNextHostWithinTheDeadline) {
  Cluster c;
  Client cl(c, {.request_timeout = 2000ms, .retry = {.attempt_timeout = 100ms}});
  ASSERT_TRUE(cl.session);
  const std::string owner = cl.OwnerOf("a");
  OnExecute(*c.ByAddress(owner), PeerReply{});  // withheld: never answers
  auto start = std::chrono::steady_clock::now();
  auto r = cl.Exec("a", Idempotent());
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(cl.session->stats().retries, 1u);
  EXPECT_TRUE(cl.Up(owner));  // a slow answer is not a dead host

  // Not idempotent: one attempt, which may use the whole timeout.
  start = std::chrono::steady_clock::now();
  r = cl.Exec("a", {.timeout = 300ms});
  took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_GE(took, 300ms);
  EXPECT_EQ(cl.session->stats().retries, 1u);

  // Every host withholds: attempts at 0, 100 and 200 ms, all inside the
  // 250 ms deadline (the third gets what is left), then kTimeout.
  for (auto* n : {&c.n1, &c.n2, &c.n3}) OnExecute(*n, PeerReply{});
  ExecOptions o = Idempotent();
  o.timeout = 250ms;
  start = std::chrono::steady_clock::now();
  r = cl.Exec("a", o);
  took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 700ms);
  EXPECT_EQ(cl.session->stats().retries, 3u);
}

TEST(CqlSessionRetry, EachRetryableErrorCodeGoesToTheNextHost) {
  for (std::int32_t code :
       {0x1001 /*Overloaded*/, 0x1002 /*IsBootstrapping*/, 0x1000 /*Unavailable*/}) {
    Cluster c;
    Client cl(c);
    ASSERT_TRUE(cl.session);
    ScriptedCqlPeer* owner = c.ByAddress(cl.OwnerOf("a"));
    OnExecute(*owner, ErrorReply(code));
    auto r = cl.Exec("a", Idempotent());
    ASSERT_TRUE(r) << code << ": " << r.error().message;
    EXPECT_EQ(owner->Requests(Opcode::kExecute).size(), 1u) << code;
    EXPECT_EQ(c.Executes(), 2u) << code;
    EXPECT_EQ(cl.session->stats().retries, 1u) << code;
    EXPECT_TRUE(cl.Up(cl.OwnerOf("a"))) << code;  // it answered: still up
  }
}

TEST(CqlSessionRetry, OtherErrorsAreTheAnswerAndRetriesStopAfterEveryHost) {
  Cluster c;
  Client cl(c);
  ASSERT_TRUE(cl.session);
  ScriptedCqlPeer* owner = c.ByAddress(cl.OwnerOf("a"));
  OnExecute(*owner, ErrorReply(0x2200));  // Invalid
  auto r = cl.Exec("a", Idempotent());
  ASSERT_FALSE(r);
  EXPECT_EQ(c.Executes(), 1u);
  EXPECT_EQ(cl.session->stats().retries, 0u);

  for (auto* n : {&c.n1, &c.n2, &c.n3}) OnExecute(*n, ErrorReply(0x1001));
  r = cl.Exec("a", Idempotent());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);  // the last Overloaded
  EXPECT_EQ(c.Executes(), 1u + 3u);                    // each host once
  EXPECT_EQ(cl.session->stats().retries, 2u);
}

TEST(CqlSessionRetry, SpeculativeExecutionAsksASecondHostAfterTheDelay) {
  Cluster c;
  Client cl(c, {.retry = {.speculative_delay = 40ms}});
  ASSERT_TRUE(cl.session);
  ScriptedCqlPeer* owner = c.ByAddress(cl.OwnerOf("a"));
  PeerReply slow;
  slow.response = ResultBody{VoidResult{}};
  slow.delay = 400ms;
  OnExecute(*owner, slow);
  ExecOptions o = Idempotent();
  o.speculative = true;
  auto start = std::chrono::steady_clock::now();
  auto r = cl.Exec("a", o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(took, 40ms);
  EXPECT_LT(took, 350ms);
  EXPECT_EQ(cl.session->stats().speculative_executions, 1u);
  EXPECT_EQ(c.Executes(), 2u);
  testing::Pump(cl.io, 500ms);  // the slow answer arrives and is dropped

  // Without the flag: one host, the slow answer.
  start = std::chrono::steady_clock::now();
  r = cl.Exec("a", Idempotent());
  took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GE(took, 400ms);
  EXPECT_EQ(cl.session->stats().speculative_executions, 1u);
  EXPECT_EQ(cl.session->stats().retries, 0u);
}

}  // namespace
}  // namespace ficus::cql
