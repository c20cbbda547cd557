// Test harness: real etcd servers (Debian's etcd-server, /usr/bin/etcd or
// $FICUS_ETCD_BIN) on free 127.0.0.1 ports in a temporary directory.
//
//   EtcdCluster one(1);          // a single member, started and healthy
//   EtcdCluster three(3);        // a 3-member cluster with a leader
//   three.Kill(0); three.Restart(0);   // SIGKILL a member / start it again (same data)
//
//   EtcdCluster tls(1, {.tls = true, .client_cert_auth = true});  // https, certs made here
//   one.EnableAuth("/ficus/", "ficus", "pw");   // RBAC: user with read-write on the prefix
//
// Every member is SIGKILLed (by pid) and its directory removed (unless
// FICUS_KEEP_TMP is set) when the object is destroyed. Construction fails the test (ADD_FAILURE +
// empty endpoints) when etcd is missing or does not become healthy in 20 s.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ficus/testing/process.h"
#include "ficus/testing/temp_dir.h"

namespace ficus::etcd::testing {

// A throw-away PKI made with the `openssl` CLI in `dir`: ca.{crt,key};
// server.{crt,key} for IP 127.0.0.1 (and DNS localhost) signed by the CA;
// client.{crt,key} signed by the CA; other-ca.crt, a CA that signed none of
// them (for "wrong CA" cases). Returns false (and ADD_FAILURE with
// openssl's output) when a step fails.
struct TestPki {
  std::string dir;
  std::string ca() const { return dir + "/ca.crt"; }
  std::string other_ca() const { return dir + "/other-ca.crt"; }
  std::string server_cert() const { return dir + "/server.crt"; }
  std::string server_key() const { return dir + "/server.key"; }
  std::string client_cert() const { return dir + "/client.crt"; }
  std::string client_key() const { return dir + "/client.key"; }
};
bool MakeTestPki(const std::string& dir, TestPki* out);

struct EtcdOptions {
  bool tls = false;               // client URLs https (server cert from the test PKI)
  bool client_cert_auth = false;  // --client-cert-auth: clients need a cert of the test CA
  int auth_token_ttl_s = 0;       // --auth-token-ttl (0: etcd's default, 300)
};

class EtcdCluster {
 public:
  explicit EtcdCluster(int members, EtcdOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  bool ok() const { return ok_; }
  // The PKI of a tls cluster (files under dir()/pki).
  const TestPki& pki() const { return pki_; }
  // Creates root (password "root-pw"), a role "<user>-rw" with read-write on
  // [prefix, PrefixEnd(prefix)), the user with that role only, then
  // `auth enable`. Returns "" or what failed.
  std::string EnableAuth(const std::string& prefix, const std::string& user,
                         const std::string& password);
  // "127.0.0.1:port" of every member's client URL.
  std::vector<std::string> endpoints() const;
  std::string endpoint(int i) const;
  void Kill(int i);     // SIGKILL, wait for exit
  bool Restart(int i);  // start again on the same ports and data; true once healthy
  bool running(int i) const { return members_[i].process != nullptr; }
  std::string Logs(int i) const;
  const std::string& dir() const { return dir_.path(); }

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::unique_ptr<ficus::testing::Process> process;  // null: not running
  };
  void Spawn(int i, bool initial);
  bool WaitHealthy(int i, int timeout_ms) const;

  ficus::testing::TempDir dir_{"ficus-etcd"};
  std::string initial_cluster_;
  std::vector<Member> members_;
  EtcdOptions options_;
  TestPki pki_;
  bool ok_ = false;
};

}  // namespace ficus::etcd::testing
