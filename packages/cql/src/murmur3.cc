#include "ficus/cql/murmur3.h"

#include <cassert>
#include <limits>

namespace ficus::cql {

namespace {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kC1 = 0x87c37b91114253d5ULL;
constexpr std::uint64_t kC2 = 0x4cf5ad432745937fULL;

constexpr std::uint64_t Rotl(std::uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

constexpr std::uint64_t Fmix(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

std::uint64_t LoadLittle64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// Java sign-extends a byte before shifting: the Cassandra quirk.
std::uint64_t SignedByte(std::uint8_t b) {
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b)));
}

}  // namespace

std::int64_t Murmur3Hash(ByteView key) {
  const std::size_t len = key.size();
  const std::size_t nblocks = len / 16;
  std::uint64_t h1 = 0;
  std::uint64_t h2 = 0;

  for (std::size_t i = 0; i < nblocks; ++i) {
    std::uint64_t k1 = LoadLittle64(key.data() + i * 16);
    std::uint64_t k2 = LoadLittle64(key.data() + i * 16 + 8);
    k1 *= kC1;
    k1 = Rotl(k1, 31);
    k1 *= kC2;
    h1 ^= k1;
    h1 = Rotl(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= kC2;
    k2 = Rotl(k2, 33);
    k2 *= kC1;
    h2 ^= k2;
    h2 = Rotl(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }

  const std::uint8_t* tail = key.data() + nblocks * 16;
  const std::size_t rest = len & 15;
  std::uint64_t k1 = 0;
  std::uint64_t k2 = 0;
  for (std::size_t i = rest; i > 8; --i) k2 ^= SignedByte(tail[i - 1]) << ((i - 9) * 8);
  if (rest > 8) {
    k2 *= kC2;
    k2 = Rotl(k2, 33);
    k2 *= kC1;
    h2 ^= k2;
  }
  for (std::size_t i = std::min<std::size_t>(rest, 8); i > 0; --i) {
    k1 ^= SignedByte(tail[i - 1]) << ((i - 1) * 8);
  }
  if (rest > 0) {
    k1 *= kC1;
    k1 = Rotl(k1, 31);
    k1 *= kC2;
    h1 ^= k1;
  }

  h1 ^= len;
  h2 ^= len;
  h1 += h2;
  h2 += h1;
  h1 = Fmix(h1);
  h2 = Fmix(h2);
  h1 += h2;
  return static_cast<std::int64_t>(h1);
}

std::int64_t Murmur3Token(ByteView key) {
  std::int64_t h = Murmur3Hash(key);
  return h == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max()
                                                       : h;
}

Bytes RoutingKey(const std::vector<ByteView>& components) {
  if (components.size() == 1) return Bytes(components[0].begin(), components[0].end());
  Writer w;
  for (auto c : components) {
    w.ShortBytes(c);
    w.Byte(0);
  }
  return std::move(w).Take();
}

unsigned ScyllaShardOf(std::int64_t token, unsigned nr_shards, unsigned ignore_msb) {
  assert(nr_shards > 0);
  std::uint64_t biased = static_cast<std::uint64_t>(token) + (std::uint64_t{1} << 63);
  biased = ignore_msb >= 64 ? 0 : biased << ignore_msb;
  return static_cast<unsigned>((static_cast<Uint128>(biased) * nr_shards) >> 64);
}

}  // namespace ficus::cql
