// The server's opt-in streaming mode (ServerOptions::stream_body): bodies
// read piece by piece by the handler, same limits and framing rules as the
// buffered mode, connection reuse only after a fully read body.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "ficus/http/body_stream.h"
#include "ficus/http/server.h"
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

// What the handler saw, for the test thread to check after the response.
struct Seen {
  std::mutex mu;
  int streamed = 0;           // requests that came with a body_stream
  int buffered = 0;           // requests with the body in Request::body
  std::size_t max_piece = 0;  // largest piece handed out
  std::string last_error;     // message of the last Read() error
  ErrorCode last_code = ErrorCode::kInternal;
};

// /stream/*: streamed (predicate); "/stream/partial" reads one piece and
// answers; everything else reads the whole body and answers
// "<mode> <bytes> <checksum>" (mode: streamed | buffered).
ServerOptions StreamingOptions() {
  ServerOptions o;
  o.stream_body = [](const Request& head) { return head.Path().starts_with("/stream/"); };
  return o;
}

std::uint64_t Checksum(std::string_view s, std::uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

Handler StreamingHandler(Seen* seen) {
  return [seen](Request& r) -> asio::awaitable<Response> {
    if (!r.body_stream) {
      std::lock_guard lk(seen->mu);
      ++seen->buffered;
      co_return Response::Text(200, "buffered " + std::to_string(r.body.size()) + " " +
                                        std::to_string(Checksum(r.body)));
    }
    {
      std::lock_guard lk(seen->mu);
      ++seen->streamed;
    }
    EXPECT_TRUE(r.body.empty());
    std::uint64_t n = 0;
    std::uint64_t h = 1469598103934665603ULL;
    for (;;) {
      auto piece = co_await r.body_stream->Read();
      if (!piece) {
        std::lock_guard lk(seen->mu);
        seen->last_error = piece.error().message;
        seen->last_code = piece.error().code;
        co_return Response::Text(500, "handler saw: " + piece.error().message);
      }
      if (piece->empty()) break;
      {
        std::lock_guard lk(seen->mu);
        seen->max_piece = std::max(seen->max_piece, piece->size());
      }
      n += piece->size();
      h = Checksum(*piece, h);
      if (r.Path() == "/stream/partial") co_return Response::Text(200, "partial");
    }
    EXPECT_TRUE(r.body_stream->done());
    EXPECT_EQ(r.body_stream->bytes_read(), n);
    co_return Response::Text(200, "streamed " + std::to_string(n) + " " + std::to_string(h));
  };
}

std::string Expected(std::string_view mode, std::string_view body) {
  return std::string(mode) + " " + std::to_string(body.size()) + " " +
         std::to_string(Checksum(body));
}

std::string Chunked(std::string_view body, std::size_t chunk) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    auto part = body.substr(i, chunk);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size;
    out += part;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(StreamBody, ContentLengthBodyIsStreamedInBoundedPiecesAndConnectionReused) {
  Seen seen;
  auto o = StreamingOptions();
  o.limits.max_body_bytes = 4 << 20;
  TestServer s(o, StreamingHandler(&seen));
  RawClient c(s.port());
  const std::string body = Pattern(1 << 20);
  // Part of the body travels with the head (delivered first), the rest later.
  c.Send("POST /stream/x HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body.substr(0, 1000));
  std::this_thread::sleep_for(50ms);
  c.Send(body.substr(1000));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), Expected("streamed", body));
  EXPECT_NE(HeaderOf(r, "Connection").value_or(""), "close");
  // Same connection, a buffered request next.
  c.Send("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  r = c.ReadResponse();
  EXPECT_EQ(BodyOf(r), Expected("buffered", "abc"));
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.streamed, 1);
  EXPECT_EQ(seen.buffered, 1);
  EXPECT_GT(seen.max_piece, 0u);
  EXPECT_LE(seen.max_piece, 64u * 1024) << "a piece is about one socket read, not the body";
}

TEST(StreamBody, ChunkedBodyIsDecodedAndPipelinedRequestAfterItIsAnswered) {
  Seen seen;
  TestServer s(StreamingOptions(), StreamingHandler(&seen));
  RawClient c(s.port());
  const std::string body = Pattern(100'000);
  // The streamed request and the next one in a single send (pipelined).
  c.Send("POST /stream/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
         Chunked(body, 7000) + "GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string r1 = c.ReadResponse();
  std::string r2 = c.ReadResponse();
  EXPECT_EQ(StatusOf(r1), 200);
  EXPECT_EQ(BodyOf(r1), Expected("streamed", body));
  EXPECT_EQ(StatusOf(r2), 200);
  EXPECT_EQ(BodyOf(r2), Expected("buffered", ""));
  // And the connection still serves another streamed request.
  c.Send("POST /stream/d HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(BodyOf(c.ReadResponse()), Expected("streamed", "hello"));
}

TEST(StreamBody, BadChunkMidStreamGives400ClosesAndHandlerSeesError) {
  Seen seen;
  TestServer s(StreamingOptions(), StreamingHandler(&seen));
  RawClient c(s.port());
  c.Send("POST /stream/bad HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
         std::string("5\r\nhello\r\n"));
  std::this_thread::sleep_for(50ms);  // the handler has the first piece by now
  c.Send("zz\r\nworld\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string all = c.ReadAll();
  EXPECT_EQ(StatusOf(all), 400);
  EXPECT_EQ(HeaderOf(all, "Connection").value_or(""), "close");
  EXPECT_EQ(all.find("handler saw"), std::string::npos) << "the server answers, not the handler";
  EXPECT_EQ(all.find("HTTP/1.1", 1), std::string::npos) << "no answer to the request after it";
  EXPECT_TRUE(c.WaitClosed());
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.last_code, ErrorCode::kInvalidArgument);
  EXPECT_NE(seen.last_error.find("body"), std::string::npos) << seen.last_error;
  EXPECT_EQ(s.server().Counters().rejected[static_cast<int>(RejectReason::kBadRequest)], 1u);
}

TEST(StreamBody, ChunkedBodyOverTheLimitGives413AndHandlerSeesTooLarge) {
  Seen seen;
  auto o = StreamingOptions();
  o.limits.max_body_bytes = 50'000;
  TestServer s(o, StreamingHandler(&seen));
  RawClient c(s.port());
  c.Send("POST /stream/big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
         Chunked(Pattern(80'000), 10'000));
  std::string all = c.ReadAll();
  EXPECT_EQ(StatusOf(all), 413);
  EXPECT_NE(BodyOf(all).find("body: larger than 50000 bytes"), std::string::npos) << all;
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.last_code, ErrorCode::kTooLarge);
}

TEST(StreamBody, DeclaredLengthOverTheLimitIsRefusedBeforeTheHandler) {
  Seen seen;
  auto o = StreamingOptions();
  o.limits.max_body_bytes = 1000;
  TestServer s(o, StreamingHandler(&seen));
  RawClient c(s.port());
  c.Send("POST /stream/big HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadAll()), 413);
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.streamed, 0);
}

TEST(StreamBody, SlowBodyGets408AfterBodyTimeoutAndHandlerSeesTimeout) {
  Seen seen;
  auto o = StreamingOptions();
  o.body_timeout = 300ms;
  TestServer s(o, StreamingHandler(&seen));
  RawClient c(s.port());
  const auto t0 = std::chrono::steady_clock::now();
  c.Send("POST /stream/slow HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
  std::string all = c.ReadAll();
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(StatusOf(all), 408);
  EXPECT_NE(BodyOf(all).find("body not received in time"), std::string::npos) << all;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 3s);
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.last_code, ErrorCode::kTimeout);
  EXPECT_EQ(s.server().Counters().rejected[static_cast<int>(RejectReason::kBodyTimeout)], 1u);
}

TEST(StreamBody, UnreadBodyClosesTheConnectionAfterTheResponse) {
  Seen seen;
  TestServer s(StreamingOptions(), StreamingHandler(&seen));
  RawClient c(s.port());
  const std::string body = Pattern(200'000);
  c.Send("POST /stream/partial HTTP/1.1\r\nHost: t\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 100));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "partial");
  EXPECT_EQ(HeaderOf(r, "Connection").value_or(""), "close");
  // The rest of the body is not taken for a next request.
  c.Send(body.substr(100) + "GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(StreamBody, PredicateFalseOrEmptyBodyKeepsTheBufferedBehaviour) {
  Seen seen;
  TestServer s(StreamingOptions(), StreamingHandler(&seen));
  RawClient c(s.port());
  c.Send("POST /other HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
  EXPECT_EQ(BodyOf(c.ReadResponse()), Expected("buffered", "body"));
  // No body to read: nothing to stream even when the predicate would say so.
  c.Send("GET /stream/empty HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(BodyOf(c.ReadResponse()), Expected("buffered", ""));
  std::lock_guard lk(seen.mu);
  EXPECT_EQ(seen.streamed, 0);
  EXPECT_EQ(seen.buffered, 2);
}

TEST(StreamBody, ExpectContinueIsAnsweredBeforeTheHandlerReads) {
  Seen seen;
  TestServer s(StreamingOptions(), StreamingHandler(&seen));
  RawClient c(s.port(), 300ms);
  c.Send("POST /stream/e HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.ReadAll(), "HTTP/1.1 100 Continue\r\n\r\n");  // before any body byte was sent
  c.Send("hello");
  EXPECT_EQ(BodyOf(c.ReadResponse()), Expected("streamed", "hello"));
}

}  // namespace
}  // namespace ficus::http
