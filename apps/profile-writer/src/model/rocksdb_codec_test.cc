#include "model/rocksdb_codec.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

Uuid U(std::uint8_t b) {
  Uuid u{};
  u.fill(b);
  return u;
}

TEST(WriterHistoryKey, NewestFirstThenSeqWithinUser) {
  Uuid u = U(7);
  std::string newer = HistoryKey(u, 200, 5), older = HistoryKey(u, 100, 9),
              tie_a = HistoryKey(u, 200, 6);
  EXPECT_LT(newer, older);
  EXPECT_LT(newer, tie_a);
  EXPECT_LT(tie_a, older);
  EXPECT_EQ(newer.size(), 32u);
  EXPECT_EQ(newer.substr(0, 16), HistoryPrefix(u));
  // Users never interleave.
  EXPECT_LT(HistoryKey(U(1), 1, 0), HistoryKey(U(2), 999999, 0));
  auto parts = DecodeHistoryKey(older);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->user, u);
  EXPECT_EQ(parts->ts_us, 100);
  EXPECT_EQ(parts->seq, 9u);
}

TEST(WriterHistoryKey, BigEndianInvertedTimestamp) {
  std::string k = HistoryKey(U(0), 1, 0x0102);
  // UINT64_MAX - 1 = ff..fe
  EXPECT_EQ(k.substr(16, 8), std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8));
  EXPECT_EQ(k.substr(24, 8), std::string("\0\0\0\0\0\0\x01\x02", 8));
}

TEST(WriterProfileCodec, RoundTripsTombstonesAndBinary) {
  Profile p;
  p.updated_us = 1700000000123456;
  p.cells["a"] = Cell{5, std::string("x\0y", 3)};
  p.cells["gone"] = Cell{7, std::nullopt};
  p.cells["empty"] = Cell{8, std::string()};
  auto back = DecodeProfile(EncodeProfile(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
}

TEST(WriterProfileCodec, RejectsTruncatedAndTrailingBytes) {
  Profile p;
  p.updated_us = 1;
  p.cells["a"] = Cell{1, "v"};
  std::string enc = EncodeProfile(p);
  for (std::size_t n = 0; n < enc.size(); ++n) EXPECT_FALSE(DecodeProfile(enc.substr(0, n)));
  EXPECT_FALSE(DecodeProfile(enc + "x"));
}

TEST(WriterIdempotencyCodec, RoundTrips) {
  IdempotencyRecord r;
  r.created_us = 42;
  r.fingerprint[3] = 9;
  r.user = U(3);
  r.profile.updated_us = 5;
  r.profile.cells["k"] = Cell{5, "v"};
  std::string enc = EncodeIdempotency(r);
  auto back = DecodeIdempotency(U(3), enc);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(*IdempotencyCreatedUs(enc), 42);
  EXPECT_EQ(IdempotencyKey(U(3), "key").substr(16), "key");
}

}  // namespace
}  // namespace ficus::writer
