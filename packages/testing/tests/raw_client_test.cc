#include "ficus/testing/raw_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "ficus/testing/free_port.h"
#include "ficus/testing/http_text.h"

namespace ficus::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A one-connection server in a thread: accepts, runs `script(fd)`, closes.
class OneShotServer {
 public:
  explicit OneShotServer(std::function<void(int)> script, const char* address = "127.0.0.1") {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address, &a.sin_addr);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      const int fd = ::accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (fd < 0) return;
      char ip[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
      peer_ = ip;
      script(fd);
      ::close(fd);
    });
  }
  ~OneShotServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  // The client's address (valid after the script ran).
  const std::string& peer() const { return peer_; }

 private:
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string peer_;
  std::thread thread_;
};

void Write(int fd, const std::string& s) {
  ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
}

std::string ReadHead(int fd) {
  std::string in;
  char c;
  while (in.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) in += c;
  return in;
}

TEST(RawClient, SendsExactBytesAndReadsFramedResponsesInOrder) {
  std::string got;
  OneShotServer s([&](int fd) {
    got = ReadHead(fd);
    // Two pipelined answers in one write, after an interim 100.
    Write(fd,
          "HTTP/1.1 100 Continue\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
          "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
    std::this_thread::sleep_for(50ms);
    Write(fd, "tail");
  });
  RawClient c(s.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"));
  const std::string first = c.ReadResponse();
  EXPECT_EQ(first, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  const std::string second = c.ReadResponse();
  EXPECT_EQ(StatusOf(second), 204);
  EXPECT_EQ(HeaderOf(second, "x-a"), "b");
  EXPECT_EQ(c.ReadAll(), "tail");
  EXPECT_EQ(got, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(RawClient, ResponseSplitAcrossWritesIsJoined) {
  OneShotServer s([&](int fd) {
    ReadHead(fd);
    Write(fd, "HTTP/1.1 200 OK\r\nContent-");
    std::this_thread::sleep_for(20ms);
    Write(fd, "Length: 3\r\n\r\na");
    std::this_thread::sleep_for(20ms);
    Write(fd, "bc");
  });
  RawClient c(s.port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "abc");
}

TEST(RawClient, TruncatedResponseIsEmpty) {
  OneShotServer s([&](int fd) {
    ReadHead(fd);
    Write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  });
  RawClient c(s.port());
  c.Send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(c.ReadResponse(), "");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(RawClient, ReadTimesOutAfterTheTimeout) {
  OneShotServer s([&](int fd) {
    ReadHead(fd);
    std::this_thread::sleep_for(1500ms);  // never answers in time
  });
  RawClient c(s.port(), 300ms);
  c.Send("GET / HTTP/1.1\r\n\r\n");
  const auto t0 = Clock::now();
  EXPECT_EQ(c.ReadResponse(), "");
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1200ms);
}

TEST(RawClient, WaitClosedSeesThePeerClose) {
  OneShotServer s([&](int fd) { ReadHead(fd); });
  RawClient c(s.port(), 2s);
  c.Send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(c.ReadSome(), "");
}

TEST(RawClient, ShutdownWriteSendsEof) {
  std::string got;
  OneShotServer s([&](int fd) {
    char buf[256];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
    Write(fd, "bye");
  });
  RawClient c(s.port());
  c.Send("partial");
  c.ShutdownWrite();
  EXPECT_EQ(c.ReadAll(), "bye");
  EXPECT_EQ(got, "partial");
}

TEST(RawClient, ConnectsFromTheGivenSourceAddress) {
  OneShotServer s([&](int fd) { ReadHead(fd); });
  RawClientOptions o;
  o.source = "127.0.0.7";
  {
    RawClient c(s.port(), o);
    ASSERT_TRUE(c.connected());
    c.Send("GET / HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(c.WaitClosed());
  }
  EXPECT_EQ(s.peer(), "127.0.0.7");
}

TEST(RawClient, NoServerMeansNotConnectedAndEmptyReads) {
  RawClient c(FreePort());
  EXPECT_FALSE(c.connected());
  EXPECT_FALSE(c.Send("x"));
  EXPECT_EQ(c.ReadResponse(), "");
  EXPECT_EQ(c.ReadAll(), "");
  EXPECT_EQ(RoundTrip(FreePort(), "GET / HTTP/1.1\r\n\r\n"), "");
}

TEST(RoundTrip, OneRequestOnANewConnection) {
  OneShotServer s([&](int fd) {
    ReadHead(fd);
    Write(fd, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  });
  const std::string r = RoundTrip(s.port(), "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 201);
  EXPECT_EQ(BodyOf(r), "ok");
}

}  // namespace
}  // namespace ficus::testing
