// Test harness: real etcd servers (Debian's etcd-server, /usr/bin/etcd or
// $FICUS_ETCD_BIN) on free 127.0.0.1 ports in a temporary directory.
//
//   EtcdCluster one(1);          // a single member, started and healthy
//   EtcdCluster three(3);        // a 3-member cluster with a leader
//   three.Kill(0); three.Restart(0);   // SIGKILL a member / start it again (same data)
//
// Every member is SIGKILLed (by pid) and its directory removed when the
// object is destroyed. Construction fails the test (ADD_FAILURE + empty
// endpoints) when etcd is missing or does not become healthy in 20 s.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ficus::etcd::testing {

uint16_t FreeLoopbackPort();

class EtcdCluster {
 public:
  explicit EtcdCluster(int members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  bool ok() const { return ok_; }
  // "127.0.0.1:port" of every member's client URL.
  std::vector<std::string> endpoints() const;
  std::string endpoint(int i) const;
  void Kill(int i);     // SIGKILL, wait for exit
  bool Restart(int i);  // start again on the same ports and data; true once healthy
  bool running(int i) const { return members_[i].pid > 0; }
  std::string Logs(int i) const;
  const std::string& dir() const { return dir_; }

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    pid_t pid = -1;
  };
  void Spawn(int i, bool initial);
  bool WaitHealthy(int i, int timeout_ms) const;

  std::string dir_;
  std::string initial_cluster_;
  std::vector<Member> members_;
  bool ok_ = false;
};

}  // namespace ficus::etcd::testing
