#include "ficus/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include "ficus/http/completion.h"
#include "test_util.h"

namespace ficus::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::BodyOf;
using testing::HeaderOf;
using testing::RawClient;
using testing::StatusOf;
using testing::TestServer;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// /slow?ms=N waits N ms; /throw throws; /offthread computes on another
// thread; anything else echoes.
Handler RoutingHandler(std::atomic<int>* calls = nullptr) {
  return [calls](Request& r) -> asio::awaitable<Response> {
    if (calls) calls->fetch_add(1);
    if (r.Path() == "/slow") {
      co_await Sleep(std::chrono::milliseconds(std::stoi(r.QueryParam("ms").value_or("50"))));
      co_return Response::Text(200, "slow");
    }
    if (r.Path() == "/throw") throw std::runtime_error("boom");
    if (r.Path() == "/offthread") {
      Completion<std::string> done;
      std::thread([c = done.completer(), body = r.body] {
        std::this_thread::sleep_for(10ms);
        c.Set("computed:" + body);
      }).detach();
      auto v = co_await done.Wait();
      co_return Response::Text(200, v ? *v : v.error().message);
    }
    co_return Response::Text(200, "echo:" + r.method + " " + r.target + " " + r.body);
  };
}

TEST(Server, ServesRequestsOnAKeptAliveConnection) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string r1 = c.ReadResponse();
  EXPECT_EQ(StatusOf(r1), 200);
  EXPECT_EQ(BodyOf(r1), "echo:GET /a?x=1 ");
  EXPECT_FALSE(HeaderOf(r1, "Connection").has_value());
  c.Send("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
  std::string r2 = c.ReadResponse();
  EXPECT_EQ(BodyOf(r2), "echo:POST /b body");
  EXPECT_EQ(HeaderOf(r2, "Content-Length").value(), "17");
}

TEST(Server, PipelinedResponsesComeInRequestOrder) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  c.Send(
      "GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /fast1 HTTP/1.1\r\nHost: t\r\n\r\n"
      "POST /fast2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "slow");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "echo:GET /fast1 ");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "echo:POST /fast2 hi");
}

TEST(Server, Http10ClosesUnlessKeepAliveAsked) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  c.Send("GET / HTTP/1.0\r\n\r\n");
  std::string all = c.ReadAll();
  EXPECT_EQ(StatusOf(all), 200);
  EXPECT_EQ(HeaderOf(all, "Connection").value(), "close");
  RawClient k(s.port());
  k.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(HeaderOf(k.ReadResponse(), "Connection").value(), "keep-alive");
  k.Send("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(StatusOf(k.ReadResponse()), 200);
}

TEST(Server, HeadResponseHasNoBody) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  c.Send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /g HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string all;
  // HEAD's Content-Length describes the GET body it would have had; read raw.
  std::this_thread::sleep_for(100ms);
  c.ShutdownWrite();
  all = c.ReadAll();
  auto first_end = all.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos);
  EXPECT_EQ(all.substr(first_end + 4, 8), "HTTP/1.1");  // next response follows directly
}

TEST(Server, BodyOverLimitIs413FromContentLengthWithoutCallingTheHandler) {
  std::atomic<int> calls{0};
  ServerOptions o;
  o.limits.max_body_bytes = 65536;
  TestServer s(o, RoutingHandler(&calls));
  RawClient c(s.port());
  c.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n");  // body never sent
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 413);
  EXPECT_EQ(BodyOf(r), R"({"ret":413,"data":null,"msg":"body: larger than 65536 bytes"})");
  EXPECT_EQ(HeaderOf(r, "Content-Type").value(), "application/json; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Connection").value(), "close");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(s.server().Counters().rejected[static_cast<int>(RejectReason::kBodyTooLarge)], 1u);
}

TEST(Server, BodyOverLimitWhileClientKeepsSendingStillGetsThe413) {
  ServerOptions o;
  o.limits.max_body_bytes = 1000;
  TestServer s(o, RoutingHandler());
  RawClient c(s.port());
  c.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" +
         std::string(200000, 'x'));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 413);
}

TEST(Server, ChunkedBodyOverLimitIsCutOffWith413) {
  std::atomic<int> calls{0};
  ServerOptions o;
  o.limits.max_body_bytes = 100;
  TestServer s(o, RoutingHandler(&calls));
  RawClient c(s.port());
  c.Send("POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" +
         std::string(80, 'a') + "\r\n");
  c.Send("50\r\n" + std::string(80, 'a') + "\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 413);
  EXPECT_EQ(BodyOf(r), R"({"ret":413,"data":null,"msg":"body: larger than 100 bytes"})");
  EXPECT_EQ(calls.load(), 0);
}

TEST(Server, HeadCheckAnswersBeforeTheBodyLimit) {
  ServerOptions o;
  o.limits.max_body_bytes = 10;
  o.head_check = [](const Request& r) -> std::optional<Response> {
    if (r.method != "POST") {
      Response resp = Response::Error(405, "method: use POST");
      resp.headers.Add("Allow", "POST");
      return resp;
    }
    return std::nullopt;
  };
  TestServer s(o, RoutingHandler());
  RawClient c(s.port());
  c.Send("PUT /p HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 405);
  EXPECT_EQ(HeaderOf(r, "Allow").value(), "POST");
  EXPECT_TRUE(c.WaitClosed());  // body left unread: connection closed
  RawClient k(s.port());
  k.Send("GET /p HTTP/1.1\r\nHost: t\r\n\r\n");  // no body: connection stays usable
  EXPECT_EQ(StatusOf(k.ReadResponse()), 405);
  k.Send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(BodyOf(k.ReadResponse()), "echo:POST /p ok");
}

TEST(Server, SlowlorisHeadGets408AfterHeaderTimeout) {
  ServerOptions o;
  o.header_timeout = 300ms;
  TestServer s(o, RoutingHandler());
  RawClient c(s.port());
  auto t0 = std::chrono::steady_clock::now();
  c.Send("GET / HTTP/1.1\r\nHost: t\r\n");
  std::this_thread::sleep_for(100ms);
  c.Send("X-Slow: 1\r\n");  // trickling bytes does not extend the deadline
  std::string r = c.ReadResponse();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(StatusOf(r), 408);
  EXPECT_EQ(BodyOf(r), R"({"ret":408,"data":null,"msg":"request: header not received in time"})");
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(s.server().Counters().rejected[static_cast<int>(RejectReason::kHeaderTimeout)], 1u);
}

TEST(Server, IdleKeepAliveConnectionIsClosedSilently) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  TestServer s(o, RoutingHandler());
  RawClient c(s.port());
  c.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.ReadAll(), "");  // closed with no bytes
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(Server, ConnectionsOverTheLimitAreClosedAtAccept) {
  ServerOptions o;
  o.max_connections = 2;
  TestServer s(o, RoutingHandler());
  RawClient a(s.port()), b(s.port());
  a.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  b.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_EQ(StatusOf(a.ReadResponse()), 200);
  ASSERT_EQ(StatusOf(b.ReadResponse()), 200);
  RawClient c(s.port());
  c.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(c.WaitClosed());
  auto counters = s.server().Counters();
  EXPECT_EQ(counters.rejected[static_cast<int>(RejectReason::kMaxConnections)], 1u);
  EXPECT_EQ(counters.connections_active, 2u);
}

TEST(Server, HandlerExceptionIs500AndCloses) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  c.Send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 500);
  EXPECT_EQ(BodyOf(r), R"({"ret":500,"data":null,"msg":"internal: handler failed"})");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Server, HandlerCoAwaitsAResultComputedOnAnotherThread) {
  ServerOptions o;
  o.threads = 2;
  TestServer s(o, RoutingHandler());
  std::vector<std::thread> clients;
  clients.reserve(8);
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      RawClient c(s.port());
      for (int j = 0; j < 20; ++j) {
        std::string body = std::to_string(i * 100 + j);
        c.Send("POST /offthread HTTP/1.1\r\nHost: t\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
        std::string got = BodyOf(c.ReadResponse());
        if (got == "computed:" + body) {
          ok.fetch_add(1);
        } else {
          ADD_FAILURE() << "request " << body << " got '" << got << "'";
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_EQ(s.server().Counters().requests_total, 160u);
}

TEST(Server, ExpectContinueGets100BeforeTheBody) {
  TestServer s({}, RoutingHandler());
  RawClient c(s.port());
  c.Send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  char expected[] = "HTTP/1.1 100 Continue\r\n\r\n";
  std::this_thread::sleep_for(50ms);
  c.Send("abc");
  std::string r = c.ReadResponse();  // skips the 100
  EXPECT_EQ(BodyOf(r), "echo:POST /e abc");
  (void)expected;
}

TEST(Server, DrainFinishesInFlightClosesIdleAndStopsAccepting) {
  auto server = std::make_unique<Server>(ServerOptions{}, RoutingHandler());
  auto port = server->Start();
  ASSERT_TRUE(port.has_value());
  RawClient idle(*port);
  idle.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_EQ(StatusOf(idle.ReadResponse()), 200);
  RawClient busy(*port);
  busy.Send("GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  bool clean = false;
  std::thread drainer([&] { clean = server->Drain(5s); });
  EXPECT_TRUE(idle.WaitClosed());
  std::string r = busy.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "slow");
  EXPECT_EQ(HeaderOf(r, "Connection").value(), "close");
  drainer.join();
  EXPECT_TRUE(clean);
  server->Wait();
  RawClient late(*port);
  EXPECT_FALSE(late.connected());
}

TEST(Server, DrainForceClosesAtTheDeadline) {
  auto server = std::make_unique<Server>(ServerOptions{}, RoutingHandler());
  auto port = server->Start();
  ASSERT_TRUE(port.has_value());
  RawClient stuck(*port);
  stuck.Send("GET /slow?ms=10000 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::this_thread::sleep_for(50ms);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(server->Drain(200ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(stuck.WaitClosed());
}

TEST(Server, LoopsShareOnePortAndAllServe) {
  ServerOptions o;
  o.threads = 3;
  TestServer s(o, RoutingHandler());
  ASSERT_NE(s.port(), 0);
  for (int i = 0; i < 30; ++i) {
    RawClient c(s.port());
    c.Send("GET /n HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }
  EXPECT_EQ(s.server().Counters().connections_accepted, 30u);
}

TEST(Server, StartFailsCleanlyWhenThePortIsTaken) {
  TestServer first({}, RoutingHandler());
  // A listener without SO_REUSEPORT blocks the port for everyone.
  ServerOptions o;
  o.address = "not-an-ip";
  Server bad(o, RoutingHandler());
  auto r = bad.Start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ficus::http
