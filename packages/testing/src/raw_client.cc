#include "ficus/testing/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ficus/testing/http_text.h"

namespace ficus::testing {

namespace {

int Connect(std::uint16_t port, const RawClientOptions& o) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = o.timeout.count() / 1000;
  tv.tv_usec = (o.timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!o.source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, o.source.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RawClient::RawClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : RawClient(port, RawClientOptions{"127.0.0.1", timeout, ""}) {}

RawClient::RawClient(std::uint16_t port, const RawClientOptions& options)
    : fd_(Connect(port, options)) {}

RawClient::~RawClient() {
  Close();
}

void RawClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawClient::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

std::string RawClient::ReadResponse() {
  if (fd_ < 0) return {};
  for (;;) {
    const auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t len = 0;
      if (auto cl = HeaderOf(std::string_view(pending_).substr(0, end + 4), "Content-Length")) {
        len = std::stoul(*cl);
      }
      if (pending_.size() >= end + 4 + len) {
        std::string r = pending_.substr(0, end + 4 + len);
        pending_.erase(0, end + 4 + len);
        // 100 Continue is an interim response: skip it.
        if (StatusOf(r) == 100) continue;
        return r;
      }
    }
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string RawClient::ReadSome() {
  if (!pending_.empty()) {
    std::string out;
    out.swap(pending_);
    return out;
  }
  if (fd_ < 0) return {};
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  return n <= 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::string RawClient::ReadAll() {
  std::string out = std::move(pending_);
  pending_.clear();
  if (fd_ < 0) return out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawClient::WaitClosed() {
  if (fd_ < 0) return true;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

std::string RoundTrip(std::uint16_t port, std::string_view request,
                      std::chrono::milliseconds timeout) {
  RawClient c(port, timeout);
  if (!c.Send(request)) return {};
  return c.ReadResponse();
}

}  // namespace ficus::testing
