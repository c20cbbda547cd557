#include "ficus/testing/free_port.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <stdexcept>

namespace ficus::testing {
namespace {

// A listening socket on address:port (SO_REUSEADDR off); -1 if bind fails.
int Listen(const char* address, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, address, &a.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(FreePort, ReturnsAPortAServerCanListenOn) {
  const std::uint16_t port = FreePort();
  ASSERT_GT(port, 0);
  const int fd = Listen("127.0.0.1", port);
  EXPECT_GE(fd, 0) << "port " << port << " was not free";
  ::close(fd);
}

TEST(FreePort, NeverReturnsAPortSomeoneListensOn) {
  const int held = Listen("127.0.0.1", 0);
  ASSERT_GE(held, 0);
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(held, reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t taken = ntohs(a.sin_port);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 200; ++i) {
    const std::uint16_t p = FreePort();
    EXPECT_NE(p, taken);
    seen.insert(p);
  }
  // The kernel hands out different ports, not one over and over.
  EXPECT_GT(seen.size(), 100u);
  ::close(held);
}

TEST(FreePort, BindsTheGivenLoopbackAddress) {
  const std::uint16_t port = FreePort("127.0.0.2");
  ASSERT_GT(port, 0);
  const int fd = Listen("127.0.0.2", port);
  EXPECT_GE(fd, 0);
  ::close(fd);
}

TEST(FreePort, BadAddressThrowsNamingIt) {
  try {
    (void)FreePort("not-an-address");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not-an-address"), std::string::npos) << e.what();
  }
  // An address this host does not have.
  EXPECT_THROW((void)FreePort("192.0.2.1"), std::runtime_error);
}

}  // namespace
}  // namespace ficus::testing
