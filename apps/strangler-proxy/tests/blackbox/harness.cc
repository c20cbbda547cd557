#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ficus::proxy::blackbox {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

int Connect(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads one Content-Length framed response from fd (pending keeps the rest).
std::string ReadOne(int fd, std::string& pending) {
  for (;;) {
    auto end = pending.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto head = ParseResponse(pending.substr(0, end + 4));
      std::size_t len = 0;
      if (auto cl = head.Header("Content-Length")) len = std::stoul(*cl);
      if (pending.size() >= end + 4 + len) {
        std::string r = pending.substr(0, end + 4 + len);
        pending.erase(0, end + 4 + len);
        if (r.rfind("HTTP/1.1 100", 0) == 0) continue;
        return r;
      }
    }
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<uint16_t> ReadReadyPort(const std::string& path, const char* key) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec || !v.is_object() || !v.as_object().contains(key)) return std::nullopt;
  return static_cast<uint16_t>(v.as_object().at(key).to_number<int>());
}

}  // namespace

std::string ProxyBinary() {
  const char* other = std::getenv("FICUS_TEST_PROXY_BIN");
  return other && *other ? other : FICUS_PROXY_BIN;
}

// ---- Process

Process::Process(const std::vector<std::string>& argv, const std::string& log_prefix)
    : log_prefix_(log_prefix) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = ::open((log_prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = ::open((log_prefix + ".err").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    Signal(SIGKILL);
    Wait(5s);
  }
}

void Process::Signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return status_;
}

bool Process::running() {
  if (status_) return false;
  return !Wait(0ms).has_value();
}

std::string Process::Logs() const {
  return ReadFile(log_prefix_ + ".out") + ReadFile(log_prefix_ + ".err");
}

// ---- Upstream

std::vector<json::object> Upstream::Requests() const {
  std::vector<json::object> out;
  std::istringstream in(ReadFile(log_path));
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

std::optional<json::object> Upstream::WaitFor(const std::function<bool(const json::object&)>& pred,
                                              std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto& r : Requests()) {
      if (pred(r)) return r;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

// ---- responses

std::optional<std::string> ParsedResponse::Header(std::string_view name) const {
  const auto end = raw.find("\r\n\r\n");
  std::string_view head = std::string_view(raw).substr(0, end);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    auto line = head.substr(pos + 2, next == std::string_view::npos ? next : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && IEq(line.substr(0, colon), name)) {
      auto v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = next;
  }
  return std::nullopt;
}

json::value ParsedResponse::Json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value() : v;
}

ParsedResponse ParseResponse(std::string raw) {
  ParsedResponse r;
  if (raw.size() >= 12 && raw.rfind("HTTP/", 0) == 0) r.status = std::atoi(raw.c_str() + 9);
  const auto end = raw.find("\r\n\r\n");
  if (end != std::string::npos) r.body = raw.substr(end + 4);
  r.raw = std::move(raw);
  return r;
}

std::optional<std::string> EchoHeader(const json::object& echo, std::string_view name) {
  for (const auto& f : echo.at("headers").as_array()) {
    const auto& pair = f.as_array();
    if (IEq(pair[0].as_string(), name)) return std::string(pair[1].as_string());
  }
  return std::nullopt;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx =
      static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(v.size() - 1)));
  return v[std::min(idx, v.size() - 1)];
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("FreePort: bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// ---- Client

Client::Client(uint16_t port, std::chrono::milliseconds timeout) : fd_(Connect(port, timeout)) {}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

ParsedResponse Client::RoundTrip(std::string_view raw) {
  if (fd_ < 0) return {};
  SendAll(fd_, raw);
  return ParseResponse(ReadOne(fd_, pending_));
}

// ---- Stack

Stack::Stack() {
  char tmpl[] = "/tmp/ficus-proxy-bb-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (!d) throw std::runtime_error("mkdtemp failed");
  dir_ = d;
  dead_port_ = FreePort();
}

Stack::~Stack() {
  proxy_.reset();
  upstreams_.clear();
  if (!std::getenv("FICUS_KEEP_TMP")) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Upstream& Stack::StartUpstream(const std::string& name, std::vector<std::string> extra) {
  auto up = std::make_unique<Upstream>();
  up->name = name;
  up->log_path = dir_ + "/" + name + ".requests.jsonl";
  const std::string ready = dir_ + "/" + name + ".ready";
  std::vector<std::string> argv = {FICUS_TEST_UPSTREAM_BIN, "--name", name, "--log", up->log_path,
                                   "--ready-file",          ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  up->process = std::make_unique<Process>(argv, dir_ + "/" + name);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (auto p = ReadReadyPort(ready, "port")) {
      up->port = *p;
      break;
    }
    if (!up->process->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  if (up->port == 0) throw std::runtime_error("upstream " + name + " did not start");
  upstreams_.push_back(std::move(up));
  return *upstreams_.back();
}

std::string Stack::Expand(const std::string& yaml) const {
  std::string out = yaml;
  auto replace = [&out](const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = out.find(from, pos)) != std::string::npos;) {
      out.replace(pos, from.size(), to);
      pos += to.size();
    }
  };
  for (const auto& u : upstreams_) replace("${" + u->name + "}", std::to_string(u->port));
  replace("${DEAD}", std::to_string(dead_port_));
  replace("${DIR}", dir_);
  return out;
}

void Stack::WriteConfig(const std::string& yaml, bool atomic) {
  const auto text = Expand(yaml);
  if (atomic) {
    const auto tmp = config_path() + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << text;
    fs::rename(tmp, config_path());
  } else {
    std::ofstream(config_path(), std::ios::trunc) << text;
  }
}

void Stack::StartProxy(const std::string& yaml) {
  WriteConfig(yaml);
  RestartProxy();
}

void Stack::RestartProxy() {
  const std::string ready = dir_ + "/proxy.ready";
  ::unlink(ready.c_str());
  proxy_ = std::make_unique<Process>(
      std::vector<std::string>{ProxyBinary(), "--config", config_path(), "--ready-file", ready},
      dir_ + "/proxy");
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    auto p = ReadReadyPort(ready, "listen");
    auto a = ReadReadyPort(ready, "admin");
    if (p && a) {
      port_ = *p;
      admin_port_ = *a;
      return;
    }
    if (!proxy_->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("proxy did not start: " + proxy_->Logs());
}

ParsedResponse Stack::Request(std::string_view raw, std::chrono::milliseconds timeout) const {
  Client c(port_, timeout);
  return c.RoundTrip(raw);
}

ParsedResponse Stack::Admin(std::string_view path) const {
  Client c(admin_port_);
  return c.RoundTrip("GET " + std::string(path) + " HTTP/1.1\r\nHost: admin\r\n\r\n");
}

double Stack::Metric(std::string_view series) const {
  const auto text = Admin("/metrics").body;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace ficus::proxy::blackbox
