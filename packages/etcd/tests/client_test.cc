// ficus::etcd::Client against a real single-member etcd on loopback.
#include "ficus/etcd/client.h"

#include <gtest/gtest.h>

#include <thread>

#include "etcd_harness.h"
#include "ficus/testing/free_port.h"

namespace ficus::etcd {
namespace {

std::unique_ptr<Client> Connect(const std::vector<std::string>& endpoints) {
  ClientOptions o;
  o.endpoints = endpoints;
  o.timeout = std::chrono::milliseconds(2000);
  auto c = Client::Create(o);
  EXPECT_TRUE(c.has_value());
  return c ? std::move(*c) : nullptr;
}

TEST(EtcdClient, PutRangeDeleteWithBinaryKeysAndValues) {
  testing::EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok());
  auto c = Connect(etcd.endpoints());
  const std::string bin("v\0\xff\n\"x", 6);
  auto r1 = c->Put("/t/a", bin);
  ASSERT_TRUE(r1.has_value()) << r1.error().ToString();
  auto r2 = c->Put("/t/b", "2");
  ASSERT_TRUE(r2.has_value());
  EXPECT_GT(*r2, *r1);
  ASSERT_TRUE(c->Put("/u", "outside").has_value());
  auto all = c->RangePrefix("/t/");
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->kvs.size(), 2u);
  EXPECT_EQ(all->kvs[0].key, "/t/a");
  EXPECT_EQ(all->kvs[0].value, bin);
  EXPECT_EQ(all->kvs[0].mod_revision, *r1);
  EXPECT_EQ(all->kvs[1].version, 1);
  EXPECT_EQ(all->revision, *r2 + 1);
  auto none = c->Range("/t/zzz");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->kvs.empty());
  ASSERT_TRUE(c->Delete("/t/", PrefixEnd("/t/")).has_value());
  EXPECT_TRUE(c->RangePrefix("/t/")->kvs.empty());
}

TEST(EtcdClient, TxnCompareOnModRevisionHasOneWinner) {
  testing::EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok());
  auto c = Connect(etcd.endpoints());
  // Create-if-absent: mod_revision 0.
  Txn create;
  create.compare.push_back({"/k", Compare::Target::kModRevision, 0, ""});
  create.success.push_back({Op::Kind::kPut, "/k", "first", 0, ""});
  create.failure.push_back({Op::Kind::kRange, "/k", "", 0, ""});
  auto t1 = c->Commit(create);
  ASSERT_TRUE(t1.has_value()) << t1.error().ToString();
  EXPECT_TRUE(t1->succeeded);
  auto t2 = c->Commit(create);
  ASSERT_TRUE(t2.has_value());
  EXPECT_FALSE(t2->succeeded);
  ASSERT_EQ(t2->ranges.size(), 1u);
  ASSERT_EQ(t2->ranges[0].size(), 1u);
  EXPECT_EQ(t2->ranges[0][0].value, "first");
  EXPECT_EQ(t2->ranges[0][0].mod_revision, t1->revision);

  // Two writers that both read revision R: exactly one wins.
  const int64_t seen = t1->revision;
  std::atomic<int> wins{0};
  std::atomic<int> losses{0};
  std::vector<std::thread> ts;
  ts.reserve(2);
  for (int i = 0; i < 2; ++i) {
    ts.emplace_back([&, i] {
      auto own = Connect(etcd.endpoints());
      Txn t;
      t.compare.push_back({"/k", Compare::Target::kModRevision, seen, ""});
      t.success.push_back({Op::Kind::kPut, "/k", "writer" + std::to_string(i), 0, ""});
      auto r = own->Commit(t);
      ASSERT_TRUE(r.has_value());
      (r->succeeded ? wins : losses)++;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(losses.load(), 1);

  Txn by_value;
  by_value.compare.push_back({"/k", Compare::Target::kValue, 0, "nope"});
  auto t3 = c->Commit(by_value);
  ASSERT_TRUE(t3.has_value());
  EXPECT_FALSE(t3->succeeded);
}

TEST(EtcdClient, LeaseKeepsKeyAliveUntilRevokedOrExpired) {
  testing::EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok());
  auto c = Connect(etcd.endpoints());
  auto lease = c->LeaseGrant(2);
  ASSERT_TRUE(lease.has_value()) << lease.error().ToString();
  EXPECT_EQ(lease->ttl_s, 2);
  ASSERT_TRUE(c->Put("/members/a", "x", lease->id).has_value());
  for (int i = 0; i < 6; ++i) {  // 3 s of keepalives: outlives the TTL
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto k = c->LeaseKeepAlive(lease->id);
    ASSERT_TRUE(k.has_value()) << k.error().ToString();
  }
  EXPECT_EQ(c->Range("/members/a")->kvs.size(), 1u);
  EXPECT_EQ(c->Range("/members/a")->kvs[0].lease, lease->id);
  ASSERT_TRUE(c->LeaseRevoke(lease->id).has_value());
  EXPECT_TRUE(c->Range("/members/a")->kvs.empty());
  auto gone = c->LeaseKeepAlive(lease->id);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);

  auto short_lease = c->LeaseGrant(1);
  ASSERT_TRUE(short_lease.has_value());
  ASSERT_TRUE(c->Put("/members/b", "x", short_lease->id).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(c->Range("/members/b")->kvs.empty());
}

TEST(EtcdClient, DownEtcdIsUnavailableNamingTheEndpoint) {
  const auto port = ficus::testing::FreePort();
  auto c = Connect({"127.0.0.1:" + std::to_string(port)});
  auto r = c->Range("/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find(std::to_string(port)), std::string::npos);
}

TEST(EtcdClient, FailsOverToAnotherMember) {
  testing::EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.ok());
  auto c = Connect(etcd.endpoints());
  ASSERT_TRUE(c->Put("/f", "1").has_value());
  etcd.Kill(0);
  // Member 0 refuses connections (not sent: the next member is tried). If it
  // was the leader, a put sent during the election may time out (its outcome
  // unknown, so not retried by the client): the caller retries.
  Result<int64_t> r = MakeError(ErrorCode::kUnavailable, "not tried");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    r = c->Put("/f", "2");
    if (r) break;
    EXPECT_NE(r.error().code, ErrorCode::kInternal) << r.error().ToString();
  }
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_NE(c->CurrentEndpoint(), etcd.endpoint(0));
  auto g = c->Range("/f");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->kvs[0].value, "2");
}

}  // namespace
}  // namespace ficus::etcd
