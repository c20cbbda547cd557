#include "ficus/cql/murmur3.h"

#include <gtest/gtest.h>

#include <limits>

namespace ficus::cql {
namespace {

TEST(CqlMurmur3, EmptyKeyHashesToZero) {
  EXPECT_EQ(Murmur3Token(Bytes{}), 0);
}

TEST(CqlMurmur3, TailBytesAreSignExtendedLikeJava) {
  // A key with a byte >= 0x80 in the tail: the Cassandra variant differs
  // from reference MurmurHash3 exactly here. Value from the python driver.
  EXPECT_EQ(Murmur3Token(AsBytes("hello")), -3758069500696749310LL);
  Bytes high{0x80};
  Bytes low{0x7F};
  EXPECT_NE(Murmur3Token(high), Murmur3Token(low));
}

TEST(CqlMurmur3, CompositeRoutingKeyFraming) {
  Bytes a{1, 2};
  Bytes b{3};
  EXPECT_EQ(RoutingKey({a}), a);
  EXPECT_EQ(RoutingKey({a, b}), (Bytes{0, 2, 1, 2, 0, 0, 1, 3, 0}));
}

TEST(CqlScyllaShard, BiasedTokenRoundRobinEdges) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(ScyllaShardOf(kMin, 12, 0), 0u);
  EXPECT_EQ(ScyllaShardOf(kMax, 12, 0), 11u);
  EXPECT_EQ(ScyllaShardOf(0, 12, 0), 6u);  // biased 2^63 * 12 / 2^64
  EXPECT_EQ(ScyllaShardOf(0, 7, 0), 3u);   // floor(7/2)
  // ignore_msb=12: 2^63 << 12 wraps to 0.
  EXPECT_EQ(ScyllaShardOf(0, 12, 12), 0u);
  // token -2^63 + 2^51: biased 2^51, << 12 = 2^63 -> half of the shards.
  EXPECT_EQ(ScyllaShardOf(kMin + (std::int64_t{1} << 51), 12, 12), 6u);
  EXPECT_EQ(ScyllaShardOf(12345, 1, 12), 0u);
}

TEST(CqlScyllaShard, ShardsAreBalancedOverTokens) {
  std::vector<int> counts(8);
  for (int i = 0; i < 8000; ++i) {
    Bytes key{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8), 0x42};
    counts[ScyllaShardOf(Murmur3Token(key), 8, 12)]++;
  }
  for (int c : counts) EXPECT_GT(c, 800);
}

}  // namespace
}  // namespace ficus::cql
