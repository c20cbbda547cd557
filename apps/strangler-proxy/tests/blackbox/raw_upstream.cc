#include "raw_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "ficus/testing/http_text.h"

namespace ficus::proxy::blackbox {

namespace {

using testing::IEquals;

// Reads more bytes into `buf`; false on EOF, error or stop.
bool ReadMore(int fd, std::string& buf, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);
    if (r < 0) return false;
    if (r == 0) continue;
    char tmp[65536];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  return false;
}

// One request from `buf` (reading more as needed); false when the
// connection ended first.
bool ReadRequest(int fd, std::string& buf, const std::atomic<bool>& stop, RawRequest& out) {
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd, buf, stop)) return false;
  }
  out.head = buf.substr(0, end + 4);
  buf.erase(0, end + 4);
  const auto sp1 = out.head.find(' ');
  const auto sp2 = out.head.find(' ', sp1 + 1);
  out.method = out.head.substr(0, sp1);
  out.target = out.head.substr(sp1 + 1, sp2 - sp1 - 1);
  if (IEquals(out.Header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      std::size_t eol;
      while ((eol = buf.find("\r\n")) == std::string::npos) {
        if (!ReadMore(fd, buf, stop)) return false;
      }
      const std::size_t size = std::strtoul(buf.c_str(), nullptr, 16);
      if (size == 0) {  // last chunk: trailer fields up to the blank line
        for (;;) {
          if (buf.size() >= eol + 4 && buf.compare(eol, 4, "\r\n\r\n") == 0) {
            buf.erase(0, eol + 4);
            return true;
          }
          if (const auto t = buf.find("\r\n\r\n", eol + 2); t != std::string::npos) {
            buf.erase(0, t + 4);
            return true;
          }
          if (!ReadMore(fd, buf, stop)) return false;
        }
      }
      while (buf.size() < eol + 2 + size + 2) {
        if (!ReadMore(fd, buf, stop)) return false;
      }
      out.body.append(buf, eol + 2, size);
      buf.erase(0, eol + 2 + size + 2);
    }
  }
  const std::string cl = out.Header("Content-Length");
  const std::size_t len = cl.empty() ? 0 : std::strtoul(cl.c_str(), nullptr, 10);
  while (buf.size() < len) {
    if (!ReadMore(fd, buf, stop)) return false;
  }
  out.body = buf.substr(0, len);
  buf.erase(0, len);
  return true;
}

}  // namespace

std::string RawRequest::Header(std::string_view name) const {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string_view line(head.data() + pos + 2, next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && IEquals(line.substr(0, colon), name)) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return std::string(v);
    }
    pos = next;
  }
  return {};
}

bool RawExchange::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawExchange::Close() {
  ::shutdown(fd_, SHUT_WR);
  closed_ = true;
}

void RawExchange::Reset() {
  // Close with SO_LINGER 0 (an RST, not a FIN); the descriptor number stays
  // taken by a fresh unconnected socket, so the upstream's bookkeeping of
  // its fds stays valid.
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  const int placeholder = ::socket(AF_INET, SOCK_STREAM, 0);
  ::dup2(placeholder, fd_);
  ::close(placeholder);
  closed_ = true;
}

std::string RawExchange::ReadSome(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  return n <= 0 ? std::string() : std::string(tmp, static_cast<std::size_t>(n));
}

RawUpstream::RawUpstream(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 512) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("RawUpstream: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

RawUpstream::~RawUpstream() {
  stop_.store(true);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : fds_) ::close(fd);
}

std::vector<RawRequest> RawUpstream::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

void RawUpstream::Accept() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int index = connections_.fetch_add(1);
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, index] { Serve(fd, index); });
  }
}

void RawUpstream::Serve(int fd, int index) {
  std::string buf;
  for (int n = 0; !stop_.load(); ++n) {
    RawRequest req;
    if (!ReadRequest(fd, buf, stop_, req)) break;
    requests_.fetch_add(1);
    {
      std::lock_guard lock(mu_);
      received_.push_back(req);
    }
    RawExchange x(fd, std::move(req), index, n);
    script_(x);
    if (x.closed()) break;
  }
  // The fd stays open (and listed) until the destructor: a closed number
  // could be reused by another connection that the destructor then shuts.
  ::shutdown(fd, SHUT_WR);
}

}  // namespace ficus::proxy::blackbox
