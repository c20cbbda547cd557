#include "writer_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

namespace ficus::writer::testing {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, bool send_content_length) {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return result;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return result;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) {
    req += k;
    req += ": ";
    req += v;
    req += "\r\n";
  }
  if (send_content_length && (!body.empty() || method == "POST")) {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  SendAll(fd, req);  // the server may answer (413) before reading everything
  std::string in;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos || in.compare(0, 9, "HTTP/1.1 ") != 0) return result;
  result.status = std::atoi(in.c_str() + 9);
  std::size_t pos = in.find("\r\n") + 2;
  while (pos < head_end) {
    std::size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      result.headers[Lower(line.substr(0, colon))] = v;
    }
    pos = eol + 2;
  }
  result.body = in.substr(head_end + 4);
  if (auto it = result.headers.find("content-length"); it != result.headers.end()) {
    std::size_t len = std::stoul(it->second);
    if (result.body.size() < len) {
      result.status = 0;  // truncated
    } else {
      result.body.resize(len);
    }
  }
  return result;
}

TempDir::TempDir() {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("ficus-writer-bb-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  path_ = p.string();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

WriterProcess::WriterProcess(const std::string& data_dir, std::vector<std::string> extra_args,
                             std::vector<std::string> prefix) {
  log_path_ = data_dir + "/writer.log";
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> args = std::move(prefix);
  for (const char* a : {FICUS_WRITER_BINARY, "--listen", "127.0.0.1:0", "--data-dir"}) {
    args.emplace_back(a);
  }
  args.push_back(data_dir + "/db");
  for (auto& a : extra_args) args.push_back(std::move(a));
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) ::dup2(log, 2);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Read the "listening on http://127.0.0.1:PORT" line (10 s at most).
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  while (std::chrono::steady_clock::now() < deadline && line.find('\n') == std::string::npos) {
    char c[256];
    ssize_t n = ::read(out[0], c, sizeof c);
    if (n > 0) {
      line.append(c, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ::close(out[0]);
  std::size_t colon = line.rfind(':');
  if (line.find("listening on") == std::string::npos || colon == std::string::npos) return;
  int port = std::atoi(line.c_str() + colon + 1);
  for (int i = 0; i < 200; ++i) {
    if (Http(port, "GET", "/readyz").status == 200) {
      port_ = port;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

WriterProcess::~WriterProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void WriterProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int WriterProcess::Wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace ficus::writer::testing
