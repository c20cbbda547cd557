#include "model/replay_format.h"

#include <gtest/gtest.h>

#include <string>

namespace ficus::proxy::replay_format {
namespace {

ReplayRecord Sample() {
  ReplayRecord r;
  r.seq = 42;
  r.appended_ms = 1'796'450'663'553;
  r.route = "profile-update";
  r.backend = "modern";
  r.user_key = "0000004d-0000-4000-8000-000000000041";
  r.method = "POST";
  r.target = "/api/v2/profile/update?x=1";
  r.headers = {{"X-Ficus-Timestamp", "1763766152123456"}, {"Content-Type", "application/json"}};
  r.body = std::string("{\"a\":\"\0b\"}", 10);
  return r;
}

TEST(ReplayFormat, Crc32cIsCastagnoli) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(ReplayFormat, IntegersAreLittleEndian) {
  std::string s;
  PutU32(s, 0x01020304u);
  PutU64(s, 0x1122334455667788ull);
  ASSERT_EQ(s.size(), 12U);
  EXPECT_EQ(s[0], '\x04');
  EXPECT_EQ(s[4], '\x88');
  EXPECT_EQ(GetU32(s.data()), 0x01020304u);
  EXPECT_EQ(GetU64(s.data() + 4), 0x1122334455667788ull);
}

TEST(ReplayFormat, PayloadRoundTripsEveryField) {
  const ReplayRecord in = Sample();
  const std::string p = EncodePayload(in);
  ReplayRecord out;
  ASSERT_TRUE(DecodePayload(p.data(), p.size(), out));
  EXPECT_EQ(out.seq, in.seq);
  EXPECT_EQ(out.appended_ms, in.appended_ms);
  EXPECT_EQ(out.route, in.route);
  EXPECT_EQ(out.backend, in.backend);
  EXPECT_EQ(out.user_key, in.user_key);
  EXPECT_EQ(out.method, in.method);
  EXPECT_EQ(out.target, in.target);
  EXPECT_EQ(out.headers, in.headers);
  EXPECT_EQ(out.body, in.body);
}

TEST(ReplayFormat, CutOrPaddedPayloadsDoNotDecode) {
  const std::string p = EncodePayload(Sample());
  ReplayRecord out;
  for (size_t n = 0; n < p.size(); ++n) {
    EXPECT_FALSE(DecodePayload(p.data(), n, out)) << "cut at " << n;
  }
  const std::string padded = p + "x";
  EXPECT_FALSE(DecodePayload(padded.data(), padded.size(), out));
}

TEST(ReplayFormat, AbsurdHeaderCountIsRefused) {
  ReplayRecord r = Sample();
  r.headers.assign(10001, {"a", "b"});
  const std::string p = EncodePayload(r);
  ReplayRecord out;
  EXPECT_FALSE(DecodePayload(p.data(), p.size(), out));
}

TEST(ReplayFormat, SegmentNamesSortByFirstSeq) {
  EXPECT_EQ(SegmentName(7), "seg-00000000000000000007.log");
  EXPECT_LT(SegmentName(9), SegmentName(10));
}

}  // namespace
}  // namespace ficus::proxy::replay_format
