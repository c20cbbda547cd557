#include "response_framer.h"

#include <gtest/gtest.h>

#include <string>

namespace ficus::bench {
namespace {

using State = ResponseFramer::State;

// Feeds `wire` one byte at a time (the hardest split) and then whole.
struct Framed {
  State state;
  unsigned status;
  bool keep_alive;
  std::size_t consumed;
};
Framed FrameBytewise(const std::string& wire) {
  ResponseFramer f;
  State s = State::kNeedMore;
  for (std::size_t n = 1; n <= wire.size() && s == State::kNeedMore; ++n) {
    s = f.Feed(std::string_view(wire).substr(0, n));
  }
  return {s, f.status(), f.keep_alive(), f.consumed()};
}
Framed FrameWhole(const std::string& wire) {
  ResponseFramer f;
  const State s = f.Feed(wire);
  return {s, f.status(), f.keep_alive(), f.consumed()};
}

TEST(ResponseFramer, ContentLength) {
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
  for (auto f : {FrameBytewise(r), FrameWhole(r)}) {
    EXPECT_EQ(f.state, State::kComplete);
    EXPECT_EQ(f.status, 200u);
    EXPECT_TRUE(f.keep_alive);
    EXPECT_EQ(f.consumed, r.size());
  }
  // A pipelined next response is not consumed.
  auto two = FrameWhole(r + "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(two.consumed, r.size());
}

TEST(ResponseFramer, NoBodyStatusesAndClose) {
  auto f = FrameBytewise("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.status, 204u);
  f = FrameWhole(
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno");
  EXPECT_EQ(f.state, State::kComplete);
  EXPECT_EQ(f.status, 503u);
  EXPECT_FALSE(f.keep_alive);
  f = FrameWhole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(f.keep_alive);
  f = FrameWhole("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(f.keep_alive);
}

TEST(ResponseFramer, ChunkedWithExtensionsAndTrailers) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n"
      "0B\r\n world, abc\r\n"
      "0\r\nTrailer: x\r\n\r\n";
  for (auto f : {FrameBytewise(r), FrameWhole(r)}) {
    EXPECT_EQ(f.state, State::kComplete);
    EXPECT_EQ(f.consumed, r.size());
  }
}

TEST(ResponseFramer, InterimResponseIsSkipped) {
  const std::string r =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx";
  for (auto f : {FrameBytewise(r), FrameWhole(r)}) {
    EXPECT_EQ(f.state, State::kComplete);
    EXPECT_EQ(f.status, 201u);
    EXPECT_EQ(f.consumed, r.size());
  }
}

TEST(ResponseFramer, Errors) {
  EXPECT_EQ(FrameWhole("HTTP/2 200 OK\r\n\r\n").state, State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n").state, State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").state, State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").state,
            State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 200 OK\r\n\r\nclose-delimited").state, State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").state,
            State::kError);
  EXPECT_EQ(FrameWhole(std::string(70'000, 'a')).state, State::kError);
  EXPECT_EQ(FrameWhole("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab").state, State::kNeedMore);
}

}  // namespace
}  // namespace ficus::bench
