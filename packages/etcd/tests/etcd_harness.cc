#include "etcd_harness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ficus/etcd/client.h"
#include "ficus/http/sync_client.h"
#include "ficus/testing/files.h"
#include "ficus/testing/free_port.h"
#include "ficus/testing/wait_for.h"

namespace ficus::etcd::testing {

using ficus::testing::ReadFile;

namespace {

// Runs argv (PATH searched, no shell), output appended to `log`; true when it exits 0.
bool RunTool(const std::vector<std::string>& args, const std::string& log) {
  return ficus::testing::RunToEnd(args, log) == 0;
}

}  // namespace

bool MakeTestPki(const std::string& dir, TestPki* out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  out->dir = dir;
  const std::string log = dir + "/openssl.log";
  const std::string ec_key = "ec";
  auto new_ca = [&](const std::string& name) {
    return RunTool(
        {"openssl", "req", "-x509", "-newkey", ec_key, "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt", "-days",
         "2", "-subj", "/CN=ficus test " + name},
        log);
  };
  // The client certificate has no CommonName: with auth enabled etcd
  // refuses gateway requests from a certificate with a CN ("CommonName of
  // client sending a request against gateway will be ignored...").
  auto leaf = [&](const std::string& name, const std::string& ext) {
    const std::string subject =
        name == "client" ? "/O=ficus test client" : "/CN=ficus test " + name;
    {
      std::ofstream e(dir + "/" + name + ".ext");
      e << ext << "\n";
    }
    return RunTool({"openssl", "req", "-newkey", ec_key, "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", dir + "/" + name + ".key", "-out",
                    dir + "/" + name + ".csr", "-subj", subject},
                   log) &&
           RunTool({"openssl", "x509", "-req", "-in", dir + "/" + name + ".csr", "-CA",
                    dir + "/ca.crt", "-CAkey", dir + "/ca.key", "-CAcreateserial", "-out",
                    dir + "/" + name + ".crt", "-days", "2", "-extfile", dir + "/" + name + ".ext"},
                   log);
  };
  const bool ok =
      new_ca("ca") && new_ca("other-ca") &&
      leaf("server",
           "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth") &&
      leaf("client", "subjectAltName=DNS:ficus-proxy\nextendedKeyUsage=clientAuth");
  if (!ok) ADD_FAILURE() << "openssl failed making the test PKI: " << ReadFile(log);
  return ok;
}

namespace {
std::string EtcdBin() {
  if (const char* e = std::getenv("FICUS_ETCD_BIN"); e && *e) return e;
  return "/usr/bin/etcd";
}
}  // namespace

EtcdCluster::EtcdCluster(int members, EtcdOptions options) : options_(options) {
  if (options_.tls && !MakeTestPki(dir_.File("pki"), &pki_)) return;
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
      m.client_port = ficus::testing::FreePort();
      m.peer_port = ficus::testing::FreePort();
      if (i) initial_cluster_ += ",";
      initial_cluster_ += m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
      members_.push_back(std::move(m));
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
      std::filesystem::remove_all(dir_.File(members_[static_cast<size_t>(i)].name), ec);
      std::filesystem::remove(dir_.File(members_[static_cast<size_t>(i)].name + ".log"), ec);
    }
  }
}

EtcdCluster::~EtcdCluster() {
  // Members first, then their directory (dir_'s destructor).
  for (size_t i = 0; i < members_.size(); ++i) Kill(static_cast<int>(i));
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
  const std::string client = std::string(options_.tls ? "https" : "http") +
                             "://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  std::vector<std::string> args = {EtcdBin(),
                                   "--name",
                                   m.name,
                                   "--data-dir",
                                   dir_.File(m.name),
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
  if (options_.tls) {
    args.insert(args.end(), {"--cert-file", pki_.server_cert(), "--key-file", pki_.server_key()});
    // etcd asks for client certificates whenever it has a trusted CA.
    if (options_.client_cert_auth) {
      args.insert(args.end(), {"--trusted-ca-file", pki_.ca(), "--client-cert-auth"});
    }
  }
  if (options_.auth_token_ttl_s > 0) {
    args.emplace_back("--auth-token-ttl");
    args.push_back(std::to_string(options_.auth_token_ttl_s));
  }
  (void)initial;
  const std::string log = dir_.File(m.name + ".log");
  ficus::testing::ProcessOptions o;
  o.stdout_path = log;
  o.stderr_path = log;
  if (!std::getenv("ETCD_UNSUPPORTED_ARCH")) o.env = {{"ETCD_UNSUPPORTED_ARCH", ""}};
  m.process = std::make_unique<ficus::testing::Process>(args, o);
}

bool EtcdCluster::WaitHealthy(int i, int timeout_ms) const {
  http::SyncClientOptions o;
  o.port = members_[i].client_port;
  o.timeout = std::chrono::milliseconds(1000);
  if (options_.tls) {
    auto ctx = http::MakeClientTlsContext({pki_.ca(), pki_.client_cert(), pki_.client_key()});
    if (!ctx) {
      ADD_FAILURE() << ctx.error().message;
      return false;
    }
    o.tls = *ctx;
  }
  return ficus::testing::WaitFor(
      [&] {
        http::SyncClient c(o);
        http::Request req;
        req.method = "GET";
        req.verb = boost::beast::http::verb::get;
        req.target = "/health";
        auto r = c.Send(req);
        // With auth on, /health of a healthy member says {"health":"true"} too.
        return r && r->status == 200 && r->body.find("true") != std::string::npos;
      },
      std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(100));
}

void EtcdCluster::Kill(int i) {
  Member& m = members_[i];
  if (!m.process) return;
  m.process->Kill();
  m.process.reset();
}

bool EtcdCluster::Restart(int i) {
  if (members_[i].process) return true;
  Spawn(i, false);
  return WaitHealthy(i, 20000);
}

std::string EtcdCluster::EnableAuth(const std::string& prefix, const std::string& user,
                                    const std::string& password) {
  ClientOptions o;
  o.endpoints = endpoints();
  if (options_.tls) {
    auto ctx = http::MakeClientTlsContext({pki_.ca(), pki_.client_cert(), pki_.client_key()});
    if (!ctx) return ctx.error().message;
    o.tls = *ctx;
  }
  auto c = Client::Create(o);
  if (!c) return c.error().message;
  auto b64 = [](const std::string& s) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      const unsigned v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
      out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
    }
    if (i + 1 == s.size()) {
      const unsigned v = uint8_t(s[i]) << 16;
      out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == s.size()) {
      const unsigned v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
      out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
    }
    return out;
  };
  const std::string role = user + "-rw";
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"/v3/auth/role/add", R"({"name":"root"})"},
      {"/v3/auth/user/add", R"({"name":"root","password":"root-pw"})"},
      {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
      {"/v3/auth/role/add", R"({"name":")" + role + R"("})"},
      {"/v3/auth/role/grant", R"({"name":")" + role +
                                  R"(","perm":{"permType":"READWRITE","key":")" + b64(prefix) +
                                  R"(","range_end":")" + b64(PrefixEnd(prefix)) + R"("}})"},
      {"/v3/auth/user/add", R"({"name":")" + user + R"(","password":")" + password + R"("})"},
      {"/v3/auth/user/grant", R"({"user":")" + user + R"(","role":")" + role + R"("})"},
      {"/v3/auth/enable", "{}"},
  };
  for (const auto& [path, body] : steps) {
    auto r = (*c)->Call(path, body, false);
    if (!r) {
      std::string why = path;
      why.append(" ").append(body).append(": ").append(r.error().message);
      return why;
    }
  }
  return "";
}

std::string EtcdCluster::Logs(int i) const {
  return ReadFile(dir_.File(members_[i].name + ".log"));
}

}  // namespace ficus::etcd::testing
