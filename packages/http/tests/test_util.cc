#include "test_util.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ficus::http::testing {

TestServer::TestServer(ServerOptions options, Handler handler) {
  server_ = std::make_unique<Server>(std::move(options), std::move(handler));
  auto port = server_->Start();
  EXPECT_TRUE(port.has_value()) << (port ? "" : port.error().ToString());
  port_ = port ? *port : 0;
}

TestServer::~TestServer() {
  server_->Drain(std::chrono::seconds(2));
}

Handler EchoHandler() {
  return [](Request& r) -> boost::asio::awaitable<Response> {
    co_return Response::Text(200, "echo:" + r.method + " " + r.target + " " + r.body);
  };
}

RawClient::RawClient(std::uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void RawClient::ShutdownWrite() {
  ::shutdown(fd_, SHUT_WR);
}

std::string RawClient::ReadResponse() {
  for (;;) {
    auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::size_t len = 0;
      if (auto cl = HeaderOf(pending_.substr(0, end + 4), "Content-Length")) {
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
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
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
  char buf[65536];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  return n <= 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::string RawClient::ReadAll() {
  std::string out = std::move(pending_);
  pending_.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawClient::WaitClosed() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

int StatusOf(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return -1;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

std::string BodyOf(std::string_view response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

std::optional<std::string> HeaderOf(std::string_view response, std::string_view name) {
  auto end = response.find("\r\n\r\n");
  std::string_view head = response.substr(0, end);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string_view line = head.substr(
        pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && IEquals(line.substr(0, colon), name)) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = next;
  }
  return std::nullopt;
}

}  // namespace ficus::http::testing
