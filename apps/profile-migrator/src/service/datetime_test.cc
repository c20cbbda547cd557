#include "service/datetime.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

TEST(Datetime, UtcParseAndFormatRoundTrip) {
  auto us = ParseIsoUtcUs("2026-11-21T22:42:32.123456Z");
  ASSERT_TRUE(us) << us.error().message;
  EXPECT_EQ(*us, 1795300952123456LL);
  EXPECT_EQ(FormatIsoUtcUs(*us), "2026-11-21T22:42:32.123456Z");
  EXPECT_EQ(FormatIsoUtcUs(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatIsoUtcUs(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Datetime, RejectsMalformedIso) {
  EXPECT_FALSE(ParseIsoUtcUs("2026-11-21 22:42:32.123456Z"));
  EXPECT_FALSE(ParseIsoUtcUs("2026-11-21T22:42:32Z"));
}

TEST(Datetime, DatetimeInUtcByDefault) {
  auto us = DatetimeToUnixUs("2019-03-14 09:26:53", TimeZone::Utc());
  ASSERT_TRUE(us);
  EXPECT_EQ(*us, 1552555613LL * 1'000'000);
  auto frac = DatetimeToUnixUs("2019-03-14 09:26:53.5", TimeZone::Utc());
  ASSERT_TRUE(frac);
  EXPECT_EQ(*frac, 1552555613LL * 1'000'000 + 500'000);
}

TEST(Datetime, BadDatetimesNameTheValue) {
  auto zero = DatetimeToUnixUs("0000-00-00 00:00:00", TimeZone::Utc());
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("0000-00-00 00:00:00"), std::string::npos);
  EXPECT_FALSE(DatetimeToUnixUs("2019-02-29 00:00:00", TimeZone::Utc()));
  EXPECT_FALSE(DatetimeToUnixUs("2019-02-28 24:00:00", TimeZone::Utc()));
  EXPECT_FALSE(DatetimeToUnixUs("2019-02-28 10:00:00.1234567", TimeZone::Utc()));
  EXPECT_FALSE(DatetimeToUnixUs("yesterday", TimeZone::Utc()));
}

TEST(TimeZone, FixedOffsets) {
  auto z = TimeZone::Load("+08:00");
  ASSERT_TRUE(z);
  auto us = DatetimeToUnixUs("2019-03-14 17:26:53", *z);
  EXPECT_EQ(*us, 1552555613LL * 1'000'000);
  auto w = TimeZone::Load("-0530");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->OffsetAt(0), -(5 * 3600 + 30 * 60));
  EXPECT_FALSE(TimeZone::Load("+8"));
  EXPECT_FALSE(TimeZone::Load("+25:00"));
}

TEST(TimeZone, IanaZoneWithDst) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny) << ny.error().message;
  // Winter: EST (-5); summer: EDT (-4).
  EXPECT_EQ(*DatetimeToUnixUs("2021-01-15 12:00:00", *ny), 1610730000LL * 1'000'000);
  EXPECT_EQ(*DatetimeToUnixUs("2021-07-15 12:00:00", *ny), 1626364800LL * 1'000'000);
  // Fold (01:30 happens twice on 2021-11-07): the earlier instant (EDT).
  EXPECT_EQ(*DatetimeToUnixUs("2021-11-07 01:30:00", *ny), 1636263000LL * 1'000'000);
  // Gap (02:30 does not exist on 2021-03-14): read with the offset before (EST).
  EXPECT_EQ(*DatetimeToUnixUs("2021-03-14 02:30:00", *ny), 1615707000LL * 1'000'000);
  auto sh = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(sh);
  EXPECT_EQ(*DatetimeToUnixUs("2019-03-14 17:26:53", *sh), 1552555613LL * 1'000'000);
}

TEST(TimeZone, WritesDatetimesBackInTheLegacyZone) {
  auto sh = TimeZone::Load("Asia/Shanghai");
  ASSERT_TRUE(sh);
  const std::int64_t t = 1552555613LL * 1'000'000 + 42;
  EXPECT_EQ(UnixUsToDatetime(t, *sh), "2019-03-14 17:26:53.000042");
  EXPECT_EQ(UnixUsToDatetime(t, TimeZone::Utc()), "2019-03-14 09:26:53.000042");
  EXPECT_EQ(UnixUsToDatetime(-1, TimeZone::Utc()), "1969-12-31 23:59:59.999999");
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny);
  // Round trip on both sides of a DST change, and the fold's earlier instant.
  for (std::int64_t s : {1610730000LL, 1626364800LL, 1615705199LL, 1615705200LL, 1636263000LL}) {
    const std::int64_t us = s * 1'000'000 + 123456;
    EXPECT_EQ(*DatetimeToUnixUs(UnixUsToDatetime(us, *ny), *ny), us) << s;
  }
  // The fold's later instant (01:30 EST) reads back as the earlier (01:30 EDT).
  EXPECT_EQ(UnixUsToDatetime(1636266600LL * 1'000'000, *ny), "2021-11-07 01:30:00.000000");
}

TEST(TimeZone, UnknownAndUnsafeNamesAreErrors) {
  auto z = TimeZone::Load("Mars/Olympus_Mons");
  ASSERT_FALSE(z);
  EXPECT_NE(z.error().message.find("Mars/Olympus_Mons"), std::string::npos);
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd"));
  EXPECT_FALSE(TimeZone::FromTzif("x", "not a tzif file at all, definitely not one"));
}

}  // namespace
}  // namespace ficus::migrator
