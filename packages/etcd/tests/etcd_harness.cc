#include "etcd_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ficus/http/sync_client.h"

namespace ficus::etcd::testing {

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

namespace {
std::string EtcdBin() {
  if (const char* e = std::getenv("FICUS_ETCD_BIN"); e && *e) return e;
  return "/usr/bin/etcd";
}
}  // namespace

EtcdCluster::EtcdCluster(int members) {
  char tmpl[] = "/tmp/ficus-etcd-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  if (::access(EtcdBin().c_str(), X_OK) != 0) {
    ADD_FAILURE() << "etcd not installed at " << EtcdBin()
                  << " (scripts/install-deps.sh db installs Debian's etcd-server)";
    return;
  }
  // Ports are picked free and then bound by etcd: another test running in
  // parallel can take one in between ("bind: address already in use").
  // Then the whole cluster starts again on new ports (up to 3 times).
  for (int attempt = 1;; ++attempt) {
    members_.clear();
    initial_cluster_.clear();
    for (int i = 0; i < members; ++i) {
      Member m;
      m.name = "m" + std::to_string(i);
      m.client_port = FreeLoopbackPort();
      m.peer_port = FreeLoopbackPort();
      members_.push_back(m);
      if (i) initial_cluster_ += ",";
      initial_cluster_ += m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
    }
    for (int i = 0; i < members; ++i) Spawn(i, true);
    ok_ = true;
    for (int i = 0; i < members; ++i) ok_ = WaitHealthy(i, 20000) && ok_;
    if (ok_) return;
    std::string logs;
    for (int i = 0; i < members; ++i) logs += Logs(i).substr(0, 4000);
    const bool port_taken = logs.find("address already in use") != std::string::npos;
    if (!port_taken || attempt == 3) {
      ADD_FAILURE() << "etcd did not become healthy: " << logs;
      return;
    }
    for (int i = 0; i < members; ++i) {
      Kill(i);
      std::error_code ec;
      std::filesystem::remove_all(dir_ + "/" + members_[static_cast<size_t>(i)].name, ec);
      std::filesystem::remove(dir_ + "/" + members_[static_cast<size_t>(i)].name + ".log", ec);
    }
  }
}

EtcdCluster::~EtcdCluster() {
  for (size_t i = 0; i < members_.size(); ++i) Kill(static_cast<int>(i));
  std::error_code ec;
  if (!std::getenv("FICUS_KEEP_TMP")) std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(static_cast<int>(i)));
  return out;
}

std::string EtcdCluster::endpoint(int i) const {
  return "127.0.0.1:" + std::to_string(members_[i].client_port);
}

void EtcdCluster::Spawn(int i, bool initial) {
  Member& m = members_[i];
  const std::string client = "http://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> args = {EtcdBin(),
                                   "--name",
                                   m.name,
                                   "--data-dir",
                                   dir_ + "/" + m.name,
                                   "--listen-client-urls",
                                   client,
                                   "--advertise-client-urls",
                                   client,
                                   "--listen-peer-urls",
                                   peer,
                                   "--initial-advertise-peer-urls",
                                   peer,
                                   "--initial-cluster",
                                   initial_cluster_,
                                   "--initial-cluster-token",
                                   "ficus-test",
                                   "--initial-cluster-state",
                                   "new",
                                   "--heartbeat-interval",
                                   "50",
                                   "--election-timeout",
                                   "500",
                                   "--log-outputs",
                                   "stderr"};
  (void)initial;
  const std::string log = dir_ + "/" + m.name + ".log";
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::setenv("ETCD_UNSUPPORTED_ARCH", "", 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  m.pid = pid;
}

bool EtcdCluster::WaitHealthy(int i, int timeout_ms) const {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  http::SyncClientOptions o;
  o.port = members_[i].client_port;
  o.timeout = std::chrono::milliseconds(1000);
  while (std::chrono::steady_clock::now() < until) {
    http::SyncClient c(o);
    http::Request req;
    req.method = "GET";
    req.verb = boost::beast::http::verb::get;
    req.target = "/health";
    auto r = c.Send(req);
    if (r && r->status == 200 && r->body.find("true") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void EtcdCluster::Kill(int i) {
  Member& m = members_[i];
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGKILL);
  int st = 0;
  ::waitpid(m.pid, &st, 0);
  m.pid = -1;
}

bool EtcdCluster::Restart(int i) {
  if (members_[i].pid > 0) return true;
  Spawn(i, false);
  return WaitHealthy(i, 20000);
}

std::string EtcdCluster::Logs(int i) const {
  std::ifstream in(dir_ + "/" + members_[i].name + ".log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ficus::etcd::testing
