// Connection state machine against ScriptedCqlPeer (a test double speaking
// the protocol over real TCP on 127.0.0.1; not a database).
#include "ficus/cql/connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/detached.hpp>

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

asio::ip::tcp::endpoint Ep(const ScriptedCqlPeer& p) {
  return {asio::ip::make_address(p.address()), p.port()};
}

std::shared_ptr<Connection> MustOpen(asio::io_context& io, const ScriptedCqlPeer& p,
                                     ConnectionOptions o = {}) {
  auto c = RunCo(io, Connection::Open(io.get_executor(), Ep(p), std::move(o)));
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : nullptr;
}

ResultBody TextRow(const std::string& s) {
  RowsResult rows;
  rows.metadata.column_count = 1;
  rows.metadata.columns = {{"ks", "t", "v", {type_id::kVarchar}}};
  rows.rows.push_back({EncodeText(s)});
  return rows;
}

std::string TextOf(const Result<ResponseFrame>& r) {
  if (!r) return "error: " + r.error().message;
  auto* rb = std::get_if<ResultBody>(&r->body);
  if (!rb) return "not a result";
  auto* rows = std::get_if<RowsResult>(rb);
  if (!rows || rows->rows.empty() || !rows->rows[0][0]) return "no rows";
  return *DecodeText(*rows->rows[0][0]);
}

QueryRequest Q(std::string text) {
  return QueryRequest{std::move(text), {}};
}

TEST(CqlConnection, HandshakeSendsOptionsThenStartupAndReadsScyllaSharding) {
  ScriptedCqlPeer peer({.nr_shards = 4, .shard_aware_port = true});
  asio::io_context io;
  auto c = MustOpen(io, peer);
  ASSERT_TRUE(c);
  auto reqs = peer.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<OptionsRequest>(reqs[0].request));
  auto& startup = std::get<StartupRequest>(reqs[1].request);
  EXPECT_EQ(startup.options.at("CQL_VERSION"), "3.0.0");
  ASSERT_TRUE(c->sharding());
  EXPECT_EQ(c->sharding()->nr_shards, 4u);
  EXPECT_EQ(c->sharding()->ignore_msb, 12u);
  EXPECT_EQ(c->sharding()->shard_aware_port, peer.shard_aware_port());
  c->Close();
}

TEST(CqlConnection, PasswordAuthenticatorWithSaslPlain) {
  ScriptedCqlPeer peer({.username = "ficus", .password = "s3cret"});
  asio::io_context io;
  auto ok = RunCo(io, Connection::Open(io.get_executor(), Ep(peer),
                                       {.username = "ficus", .password = "s3cret"}));
  ASSERT_TRUE(ok) << ok.error().message;
  (*ok)->Close();
  auto bad = RunCo(
      io, Connection::Open(io.get_executor(), Ep(peer), {.username = "ficus", .password = "nope"}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(bad.error().message,
            "cql Authentication_error (0x0100): Provided username and/or password are incorrect");
  auto none = RunCo(io, Connection::Open(io.get_executor(), Ep(peer), {}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("requires authentication"), std::string::npos);
}

TEST(CqlConnection, ManyInFlightAnsweredOutOfOrderReachTheirOwnRequests) {
  constexpr int kN = 64;
  ScriptedCqlPeer peer({});
  peer.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* q = std::get_if<QueryRequest>(&r.request);
    if (!q || q->query.rfind('q', 0) != 0) return std::nullopt;
    int i = std::stoi(q->query.substr(1));
    PeerReply reply;
    reply.response = TextRow("answer-" + q->query);
    reply.delay = std::chrono::milliseconds(5 + 2 * (kN - i));  // last sent, first answered
    return reply;
  });
  asio::io_context io;
  auto c = MustOpen(io, peer);
  ASSERT_TRUE(c);
  std::vector<std::string> got(kN);
  std::size_t max_in_flight = 0;
  RunCo(io, [&]() -> asio::awaitable<bool> {
    int done = 0;
    asio::steady_timer all_done(co_await asio::this_coro::executor,
                                std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < kN; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            Request req = Q("q" + std::to_string(i));  // named: see connection.cc on GCC 12
            auto r = co_await c->Send(std::move(req), 5s);
            got[i] = TextOf(r);
            if (++done == kN) all_done.cancel();
          },
          asio::detached);
    }
    max_in_flight = c->in_flight();
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return true;
  }());
  EXPECT_EQ(max_in_flight, static_cast<std::size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(got[i], "answer-q" + std::to_string(i));
  // The peer saw kN distinct stream ids and answered them in reverse order.
  auto queries = peer.Requests(Opcode::kQuery);
  ASSERT_EQ(queries.size(), static_cast<std::size_t>(kN));
  std::set<std::int16_t> streams;
  for (auto& q : queries) streams.insert(q.stream);
  EXPECT_EQ(streams.size(), static_cast<std::size_t>(kN));
  // Roughly reversed: the first query (answered ~130 ms after the last one)
  // comes in the last quarter. Not exactly: a loaded machine may wake the
  // peer's timers a few ms late and swap neighbours.
  auto order = peer.AnswerOrder();
  std::vector<std::int16_t> answered(order.end() - kN, order.end());
  const auto first_at = std::find(answered.begin(), answered.end(), queries.front().stream);
  ASSERT_NE(first_at, answered.end());
  EXPECT_GE(first_at - answered.begin(), kN * 3 / 4);
  const auto last_at = std::find(answered.begin(), answered.end(), queries.back().stream);
  EXPECT_LT(last_at - answered.begin(), kN / 4);
  EXPECT_EQ(c->in_flight(), 0u);
  c->Close();
}

TEST(CqlConnection, TimedOutStreamIdIsReusedOnlyAfterItsLateAnswer) {
  ScriptedCqlPeer peer({});
  peer.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* q = std::get_if<QueryRequest>(&r.request);
    if (!q) return std::nullopt;
    PeerReply reply;
    reply.response = TextRow(q->query);
    if (q->query == "slow") reply.delay = 300ms;
    return reply;
  });
  asio::io_context io;
  auto c = MustOpen(io, peer, {.max_streams = 2});
  ASSERT_TRUE(c);

  auto slow = RunCo(io, c->Send(Q("slow"), 50ms));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, ErrorCode::kTimeout);
  EXPECT_NE(slow.error().message.find("timed out after 50 ms"), std::string::npos)
      << slow.error().message;
  EXPECT_EQ(c->orphaned(), 1u);
  EXPECT_EQ(c->free_streams(), 1u);
  const std::int16_t slow_id = peer.Requests(Opcode::kQuery).back().stream;

  // While "slow" is orphaned its id is never handed out again.
  for (int i = 0; i < 5; ++i) {
    auto r = RunCo(io, c->Send(Q("fast" + std::to_string(i)), 1s));
    EXPECT_EQ(TextOf(r), "fast" + std::to_string(i));
    EXPECT_NE(peer.Requests(Opcode::kQuery).back().stream, slow_id);
  }
  testing::Pump(io, 400ms);  // the late answer arrives and is dropped
  EXPECT_EQ(c->orphaned(), 0u);
  EXPECT_EQ(c->free_streams(), 2u);
  // Now the id is free again: the next request gets it, and its own answer.
  bool reused = false;
  for (int i = 0; i < 2; ++i) {
    auto r = RunCo(io, c->Send(Q("after" + std::to_string(i)), 1s));
    EXPECT_EQ(TextOf(r), "after" + std::to_string(i));
    reused |= peer.Requests(Opcode::kQuery).back().stream == slow_id;
  }
  EXPECT_TRUE(reused);
  c->Close();
}

TEST(CqlConnection, NoFreeStreamIdFailsFastWithUnavailable) {
  ScriptedCqlPeer peer({});
  peer.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (!std::holds_alternative<QueryRequest>(r.request)) return std::nullopt;
    return PeerReply{};  // never answers
  });
  asio::io_context io;
  auto c = MustOpen(io, peer, {.max_streams = 1});
  ASSERT_TRUE(c);
  EXPECT_EQ(RunCo(io, c->Send(Q("a"), 30ms)).error().code, ErrorCode::kTimeout);
  auto r = RunCo(io, c->Send(Q("b"), 1s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("no free stream id"), std::string::npos);
  c->Close();
}

TEST(CqlConnection, ConnectionLossFailsPendingRequestsAndNotifies) {
  ScriptedCqlPeer peer({});
  peer.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    if (!std::holds_alternative<QueryRequest>(r.request)) return std::nullopt;
    PeerReply reply;
    reply.close = true;
    return reply;
  });
  asio::io_context io;
  auto c = MustOpen(io, peer);
  ASSERT_TRUE(c);
  std::string closed_reason;
  c->SetOnClose([&](std::string_view why) { closed_reason = why; });
  auto r = RunCo(io, c->Send(Q("x"), 2s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(c->is_open());
  EXPECT_NE(closed_reason.find("closed the connection"), std::string::npos) << closed_reason;
  EXPECT_EQ(RunCo(io, c->Send(Q("y"), 1s)).error().code, ErrorCode::kUnavailable);
}

TEST(CqlConnection, MalformedBodyFailsOneRequestBadHeaderClosesConnection) {
  ScriptedCqlPeer peer({});
  peer.SetHandler([](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* q = std::get_if<QueryRequest>(&r.request);
    if (!q) return std::nullopt;
    PeerReply reply;
    auto s = static_cast<std::uint8_t>(r.stream);
    if (q->query == "bad-body") {  // RESULT kind 3 (set_keyspace) with a string cut short
      reply.raw = Bytes{0x84, 0, 0, s, 0x08, 0, 0, 0, 7, 0, 0, 0, 3, 0, 9, 'k'};
    } else if (q->query == "bad-version") {
      reply.raw = Bytes{0x83, 0, 0, s, 0x08, 0, 0, 0, 0};
    } else {
      reply.response = TextRow("ok");
    }
    return reply;
  });
  asio::io_context io;
  auto c = MustOpen(io, peer);
  ASSERT_TRUE(c);
  auto r = RunCo(io, c->Send(Q("bad-body"), 1s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cql: truncated RESULT body: keyspace at offset 4: need 11 bytes, have 3");
  EXPECT_TRUE(c->is_open());
  EXPECT_EQ(TextOf(RunCo(io, c->Send(Q("fine"), 1s))), "ok");
  auto v = RunCo(io, c->Send(Q("bad-version"), 1s));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(v.error().message.find("got 0x83, want 0x84"), std::string::npos) << v.error().message;
  EXPECT_FALSE(c->is_open());
}

TEST(CqlConnection, ConnectToClosedPortFailsUnavailable) {
  asio::io_context io;
  // A port bound but not listening: refused, and (unlike a freed port) no
  // other process on this shared machine can take it meanwhile.
  asio::ip::tcp::socket reserved(io);
  reserved.open(asio::ip::tcp::v4());
  reserved.bind({asio::ip::make_address("127.0.0.1"), 0});
  std::uint16_t port = reserved.local_endpoint().port();
  auto c = RunCo(
      io, Connection::Open(io.get_executor(), {asio::ip::make_address("127.0.0.1"), port}, {}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace ficus::cql
