#include "model/scylla_store_url.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

std::string ErrorOf(std::string_view url) {
  auto r = ParseScyllaStoreUrl(url);
  EXPECT_FALSE(r) << url;
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(ScyllaStoreUrl, FullUrlFromTheDocs) {
  auto u = ParseScyllaStoreUrl(
      "scylla://host1:9042,host2/profiles?consistency=LOCAL_QUORUM&local_dc=dc1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->contact_points, (std::vector<std::string>{"host1:9042", "host2"}));
  EXPECT_EQ(u->keyspace, "profiles");
  EXPECT_EQ(u->consistency, cql::Consistency::kLocalQuorum);
  EXPECT_EQ(u->local_dc, "dc1");
  EXPECT_TRUE(u->shard_aware);
}

TEST(ScyllaStoreUrl, DefaultsAndEveryParameter) {
  auto d = ParseScyllaStoreUrl("scylla://10.0.0.1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->keyspace, "ficus");
  EXPECT_EQ(d->consistency, cql::Consistency::kLocalQuorum);
  EXPECT_EQ(d->timeout.count(), 2000);
  auto u = ParseScyllaStoreUrl(
      "scylla://ficus@[::1]:19042,10.0.0.2/ks_1?consistency=quorum&timeout_ms=150&"
      "connect_timeout_ms=300&shard_aware=false&max_in_flight=64");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->username, "ficus");
  EXPECT_EQ(u->contact_points, (std::vector<std::string>{"[::1]:19042", "10.0.0.2"}));
  EXPECT_EQ(u->keyspace, "ks_1");
  EXPECT_EQ(u->consistency, cql::Consistency::kQuorum);
  EXPECT_EQ(u->timeout.count(), 150);
  EXPECT_EQ(u->connect_timeout.count(), 300);
  EXPECT_FALSE(u->shard_aware);
  EXPECT_EQ(u->max_in_flight, 64u);
}

TEST(ScyllaStoreUrl, ErrorsNameThePartThatIsWrong) {
  EXPECT_EQ(ErrorOf("cassandra://h/ks"),
            "store URL: scheme: must start with scylla://, got 'cassandra://h/ks'");
  EXPECT_EQ(ErrorOf("scylla:///ks"),
            "store URL: hosts: at least one host is required, e.g. scylla://10.0.0.1/ficus");
  EXPECT_EQ(ErrorOf("scylla://h1,,h2/ks"), "store URL: host '': empty host name");
  EXPECT_EQ(ErrorOf("scylla://h1:99999/ks"), "store URL: host 'h1:99999': port must be 1..65535");
  EXPECT_EQ(ErrorOf("scylla://h1:/ks"), "store URL: host 'h1:': empty port");
  EXPECT_EQ(ErrorOf("scylla://::1/ks"),
            "store URL: host '::1': IPv6 addresses need brackets, e.g. [::1]:9042");
  EXPECT_EQ(ErrorOf("scylla://h1/My-Keyspace"),
            "store URL: keyspace 'My-Keyspace': must match [a-z][a-z0-9_]{0,47}");
  EXPECT_EQ(ErrorOf("scylla://h1/ks?consistency=LOCAL"),
            "store URL: parameter 'consistency': unknown consistency level 'LOCAL'");
  EXPECT_EQ(ErrorOf("scylla://h1/ks?consistency=SERIAL"),
            "store URL: parameter 'consistency': SERIAL is not usable for reads and writes");
  EXPECT_EQ(ErrorOf("scylla://h1/ks?timeout_ms=0"),
            "store URL: parameter 'timeout_ms': must be an integer 1..60000, got '0'");
  EXPECT_EQ(ErrorOf("scylla://h1/ks?shard_aware=yes"),
            "store URL: parameter 'shard_aware': must be true or false, got 'yes'");
  EXPECT_EQ(ErrorOf("scylla://h1/ks?local_dc"),
            "store URL: parameter 'local_dc': expected name=value");
  EXPECT_NE(ErrorOf("scylla://h1/ks?consistancy=ONE").find("unknown parameter 'consistancy'"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("scylla://u:pw@h1/ks"),
            "store URL: user: a password does not belong in the URL; set "
            "FICUS_WRITER_SCYLLA_PASSWORD");
  EXPECT_EQ(ErrorOf("scylla://h1;rm/ks"), "store URL: host 'h1;rm': invalid character ';'");
}

TEST(ScyllaStoreUrl, SchemeDetection) {
  EXPECT_TRUE(IsScyllaStoreUrl("scylla://h"));
  EXPECT_FALSE(IsScyllaStoreUrl("rocksdb"));
  EXPECT_FALSE(IsScyllaStoreUrl(""));
}

}  // namespace
}  // namespace ficus::writer
