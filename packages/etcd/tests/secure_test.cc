// ficus::etcd Client and Watcher against real etcd members with TLS
// (--cert-file/--key-file/--trusted-ca-file/--client-cert-auth, certificates
// made by the openssl CLI for this test) and with etcd's auth enabled (RBAC:
// a user whose role may read and write one prefix only).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "etcd_harness.h"
#include "ficus/etcd/client.h"
#include "ficus/etcd/watcher.h"

namespace ficus::etcd {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<http::TlsContext> Tls(const std::string& ca, const std::string& cert = "",
                                      const std::string& key = "") {
  auto ctx = http::MakeClientTlsContext({ca, cert, key});
  EXPECT_TRUE(ctx.has_value()) << ctx.error().message;
  return ctx ? *ctx : nullptr;
}

ClientOptions Opts(const testing::EtcdCluster& etcd, std::shared_ptr<http::TlsContext> tls) {
  ClientOptions o;
  o.endpoints = etcd.endpoints();
  o.timeout = 2000ms;
  o.tls = std::move(tls);
  return o;
}

// Collects the values a watcher delivers.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> values;
  bool connected = false;
  WatchCallbacks Callbacks() {
    WatchCallbacks cb;
    cb.on_events = [this](const std::vector<Event>& evs, int64_t) {
      std::lock_guard lock(mu);
      for (const auto& e : evs) values.push_back(e.kv.value);
      cv.notify_all();
    };
    cb.on_state = [this](bool up, const std::string&) {
      std::lock_guard lock(mu);
      connected = up;
      cv.notify_all();
    };
    return cb;
  }
  bool WaitConnected() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return connected; });
  }
  bool WaitValue(const std::string& v) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s,
                       [&] { return std::find(values.begin(), values.end(), v) != values.end(); });
  }
};

TEST(EtcdTls, ClientAndWatcherSpeakHttpsWithAClientCertificate) {
  testing::EtcdCluster etcd(1, {.tls = true, .client_cert_auth = true});
  ASSERT_TRUE(etcd.ok());
  const auto& pki = etcd.pki();
  auto o = Opts(etcd, Tls(pki.ca(), pki.client_cert(), pki.client_key()));
  auto c = Client::Create(o);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  Seen seen;
  Watcher w(o, WatchOptions{"/s/", PrefixEnd("/s/"), 0}, seen.Callbacks());
  w.Start();
  ASSERT_TRUE(seen.WaitConnected());
  auto put = (*c)->Put("/s/a", "over-tls");
  ASSERT_TRUE(put.has_value()) << put.error().message;
  auto got = (*c)->Range("/s/a");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  ASSERT_EQ(got->kvs.size(), 1u);
  EXPECT_EQ(got->kvs[0].value, "over-tls");
  EXPECT_TRUE(seen.WaitValue("over-tls"));
  // The endpoint may be written with its scheme.
  auto o2 = o;
  o2.endpoints = {"https://" + etcd.endpoint(0)};
  auto c2 = Client::Create(o2);
  ASSERT_TRUE(c2.has_value()) << c2.error().message;
  EXPECT_TRUE((*c2)->Range("/s/a").has_value());
  // By name: the certificate's DNS name is checked (localhost is in it).
  o2.endpoints = {"https://localhost:" + etcd.endpoint(0).substr(etcd.endpoint(0).rfind(':') + 1)};
  auto c3 = Client::Create(o2);
  ASSERT_TRUE(c3.has_value());
  auto by_name = (*c3)->Range("/s/a");
  EXPECT_TRUE(by_name.has_value()) << by_name.error().message;
}

TEST(EtcdTls, AWrongCaFailsNamingTheEndpointAndTheReason) {
  testing::EtcdCluster etcd(1, {.tls = true, .client_cert_auth = true});
  ASSERT_TRUE(etcd.ok());
  const auto& pki = etcd.pki();
  auto c = Client::Create(Opts(etcd, Tls(pki.other_ca(), pki.client_cert(), pki.client_key())));
  ASSERT_TRUE(c.has_value());
  auto r = (*c)->Put("/s/a", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("https://" + etcd.endpoint(0)), std::string::npos)
      << r.error().message;
  // Without a client certificate the member refuses the handshake.
  auto nocert = Client::Create(Opts(etcd, Tls(pki.ca())));
  ASSERT_TRUE(nocert.has_value());
  auto r2 = (*nocert)->Range("/s/a");
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message.find(etcd.endpoint(0)), std::string::npos) << r2.error().message;
  // Plain http to a TLS member gets no answer it can use.
  auto plain = Client::Create(Opts(etcd, nullptr));
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE((*plain)->Range("/s/a").has_value());
  // Options that contradict each other are refused up front, naming the field.
  auto o = Opts(etcd, nullptr);
  o.endpoints = {"https://" + etcd.endpoint(0)};
  auto bad = Client::Create(o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("endpoints[0]"), std::string::npos) << bad.error().message;
}

TEST(EtcdTls, TlsContextErrorsNameTheOptionAndFile) {
  auto missing = http::MakeClientTlsContext({"/nonexistent/ca.pem", "", ""});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("ca_file /nonexistent/ca.pem"), std::string::npos)
      << missing.error().message;
  const ficus::testing::TempDir tmp("ficus-pki");
  const std::string& dir = tmp.path();
  testing::TestPki pki;
  ASSERT_TRUE(testing::MakeTestPki(dir, &pki));
  auto mismatch = http::MakeClientTlsContext({pki.ca(), pki.client_cert(), pki.server_key()});
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.error().message.find("key_file"), std::string::npos)
      << mismatch.error().message;
  auto not_pem = http::MakeClientTlsContext({dir + "/openssl.log", "", ""});
  ASSERT_FALSE(not_pem.has_value());
  EXPECT_NE(not_pem.error().message.find("ca_file"), std::string::npos);
  auto half = http::MakeClientTlsContext({pki.ca(), pki.client_cert(), ""});
  ASSERT_FALSE(half.has_value());
}

TEST(EtcdAuth, TokenIsSentRefreshedWhenItExpiresAndRolesAreEnforced) {
  // Tokens live 1 s without use: the client must authenticate again.
  testing::EtcdCluster etcd(1, {.auth_token_ttl_s = 1});
  ASSERT_TRUE(etcd.ok());
  ASSERT_EQ(etcd.EnableAuth("/ficus/", "ficus", "s3cret"), "");
  auto o = Opts(etcd, nullptr);
  o.user = "ficus";
  o.password = "s3cret";
  auto c = Client::Create(o);
  ASSERT_TRUE(c.has_value());
  auto p1 = (*c)->Put("/ficus/a", "1");
  ASSERT_TRUE(p1.has_value()) << p1.error().message;
  Seen seen;
  Watcher w(o, WatchOptions{"/ficus/", PrefixEnd("/ficus/"), 0}, seen.Callbacks());
  w.Start();
  ASSERT_TRUE(seen.WaitConnected());
  std::this_thread::sleep_for(2500ms);  // the token expires
  auto p2 = (*c)->Put("/ficus/a", "2");
  ASSERT_TRUE(p2.has_value()) << p2.error().message;
  auto lease = (*c)->LeaseGrant(3);
  ASSERT_TRUE(lease.has_value()) << lease.error().message;
  EXPECT_TRUE(seen.WaitValue("2"));
  // Least privilege: outside the prefix is refused.
  auto outside = (*c)->Put("/other/a", "x");
  ASSERT_FALSE(outside.has_value());
  EXPECT_NE(outside.error().message.find("permission denied"), std::string::npos)
      << outside.error().message;
  // Wrong password: a clear error naming the user.
  auto wrong = o;
  wrong.password = "nope";
  auto cw = Client::Create(wrong);
  ASSERT_TRUE(cw.has_value());
  auto r = (*cw)->Range("/ficus/a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("user 'ficus'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("authentication failed"), std::string::npos);
  // No credentials at all: says that auth is on.
  auto anon = Client::Create(Opts(etcd, nullptr));
  auto r2 = (*anon)->Range("/ficus/a");
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message.find("auth"), std::string::npos) << r2.error().message;
}

TEST(EtcdAuth, TlsAndAuthTogether) {
  testing::EtcdCluster etcd(1, {.tls = true});
  ASSERT_TRUE(etcd.ok());
  ASSERT_EQ(etcd.EnableAuth("/ficus/", "ficus", "pw"), "");
  auto o = Opts(etcd, Tls(etcd.pki().ca()));
  o.user = "ficus";
  o.password = "pw";
  auto c = Client::Create(o);
  ASSERT_TRUE(c.has_value());
  Seen seen;
  Watcher w(o, WatchOptions{"/ficus/", PrefixEnd("/ficus/"), 0}, seen.Callbacks());
  w.Start();
  ASSERT_TRUE(seen.WaitConnected());
  auto p = (*c)->Put("/ficus/x", "both");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_TRUE(seen.WaitValue("both"));
}

}  // namespace
}  // namespace ficus::etcd
