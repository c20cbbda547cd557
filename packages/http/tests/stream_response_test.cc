// Streamed responses (Response::stream, response_body.h): framing per the
// client's protocol, pieces written as the source yields them, and a source
// failure that aborts the connection instead of ending the body cleanly.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "ficus/http/response_body.h"
#include "ficus/http/server.h"
#include "test_util.h"

namespace ficus::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RawClient;
using testing::TestServer;

// Yields its pieces with a pause before each; fails after them if asked.
class Pieces final : public ResponseBody {
 public:
  Pieces(std::deque<std::string> pieces, std::chrono::milliseconds pause, bool fail_at_end)
      : pieces_(std::move(pieces)), pause_(pause), fail_(fail_at_end) {}
  asio::awaitable<Result<std::string_view>> Read() override {
    asio::steady_timer t(co_await asio::this_coro::executor, pause_);
    co_await t.async_wait(asio::use_awaitable);
    if (pieces_.empty()) {
      if (fail_) co_return MakeError(ErrorCode::kUnavailable, "source cut");
      co_return std::string_view();
    }
    current_ = std::move(pieces_.front());
    pieces_.pop_front();
    co_return std::string_view(current_);
  }

 private:
  std::deque<std::string> pieces_;
  std::string current_;
  std::chrono::milliseconds pause_;
  bool fail_;
};

// /len: declared length; /chunked: none; /fail: the source fails midway;
// /short: declares more than it yields.
Handler StreamingHandler() {
  return [](Request& r) -> asio::awaitable<Response> {
    Response resp;
    resp.status = 200;
    resp.headers.Add("Content-Type", "text/plain");
    resp.body = "head-";
    const bool fail = r.Path() == "/fail";
    resp.stream =
        std::make_shared<Pieces>(std::deque<std::string>{"one-", "two-", "three"}, 100ms, fail);
    if (r.Path() == "/len") resp.content_length = 18;
    if (r.Path() == "/short") resp.content_length = 50;
    co_return resp;
  };
}

TEST(StreamResponse, DeclaredLengthIsSentAndTheConnectionIsReused) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("GET /len HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string r = c.ReadResponse();
  EXPECT_EQ(testing::HeaderOf(r, "Content-Length").value_or(""), "18");
  EXPECT_EQ(testing::BodyOf(r), "head-one-two-three");
  c.Send("GET /len HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(testing::BodyOf(c.ReadResponse()), "head-one-two-three");
}

TEST(StreamResponse, UnknownLengthIsChunkedForHttp11) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("GET /chunked HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const std::string all = c.ReadAll();
  EXPECT_NE(all.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << all;
  EXPECT_NE(all.find("\r\n\r\n5\r\nhead-\r\n4\r\none-\r\n4\r\ntwo-\r\n5\r\nthree\r\n0\r\n\r\n"),
            std::string::npos)
      << all;
}

TEST(StreamResponse, UnknownLengthIsCloseDelimitedForHttp10) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("GET /chunked HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n");
  const std::string all = c.ReadAll();
  EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos) << all;
  EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\nhead-one-two-three")) << all;
}

TEST(StreamResponse, FirstBytesLeaveBeforeTheSourceIsDone) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  const auto t0 = std::chrono::steady_clock::now();
  c.Send("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n");
  // The head and "head-" are written before the source's first pause ends.
  std::string got;
  while (got.find("head-") == std::string::npos) {
    const std::string more = c.ReadSome();
    if (more.empty()) break;
    got += more;
  }
  EXPECT_NE(got.find("head-"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 90ms) << got;
}

TEST(StreamResponse, SourceFailureAbortsWithoutTheLastChunk) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("GET /fail HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string all = c.ReadAll();
  EXPECT_NE(all.find("5\r\nthree\r\n"), std::string::npos) << all;
  EXPECT_EQ(all.find("0\r\n\r\n"), std::string::npos) << "a cut body must not end cleanly: " << all;
}

TEST(StreamResponse, FewerBytesThanDeclaredAbort) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("GET /short HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string all = c.ReadAll();
  EXPECT_TRUE(all.ends_with("head-one-two-three")) << all;
  EXPECT_TRUE(c.WaitClosed());
}

TEST(StreamResponse, HeadGetsTheDeclaredLengthAndNoBody) {
  TestServer s({}, StreamingHandler());
  RawClient c(s.port());
  c.Send("HEAD /len HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string got;
  while (got.find("\r\n\r\n") == std::string::npos) {
    const std::string more = c.ReadSome();
    if (more.empty()) break;
    got += more;
  }
  EXPECT_EQ(testing::HeaderOf(got, "Content-Length").value_or(""), "18");
  EXPECT_TRUE(got.ends_with("\r\n\r\n")) << got;
  c.Send("GET /len HTTP/1.1\r\nHost: t\r\n\r\n");  // nothing of a body came before
  EXPECT_EQ(testing::BodyOf(c.ReadResponse()), "head-one-two-three");
}

TEST(StreamResponse, ReasonPhraseIsSentAsGivenOrStandardOrNone) {
  TestServer s({}, [](Request& r) -> asio::awaitable<Response> {
    Response resp;
    resp.status = r.Path() == "/custom" ? 200 : r.Path() == "/known" ? 422 : 299;
    if (r.Path() == "/custom") resp.reason = "Fine Thanks";
    co_return resp;
  });
  for (const auto& [path, line] : std::vector<std::pair<std::string, std::string>>{
           {"/custom", "HTTP/1.1 200 Fine Thanks\r\n"},
           {"/known", "HTTP/1.1 422 Unprocessable Entity\r\n"},
           {"/unknown", "HTTP/1.1 299 \r\n"}}) {
    RawClient c(s.port());
    c.Send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_TRUE(c.ReadResponse().starts_with(line)) << path;
  }
}

}  // namespace
}  // namespace ficus::http
