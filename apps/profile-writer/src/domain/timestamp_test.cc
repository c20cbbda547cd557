#include "domain/timestamp.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

TEST(WriterFormatTimestampUs, SixFractionDigitsUtc) {
  EXPECT_EQ(FormatTimestampUs(1700000000123456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestampUs(1700000000000200), "2023-11-14T22:13:20.000200Z");
  EXPECT_EQ(FormatTimestampUs(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestampUs(951782400000001), "2000-02-29T00:00:00.000001Z");  // leap day
  EXPECT_EQ(FormatTimestampUs(4102444799999999), "2099-12-31T23:59:59.999999Z");
}

TEST(WriterFormatTimestampUs, AppendAddsToTheBufferAndYearsPast9999KeepTheirDigits) {
  std::string out = "at ";
  AppendTimestampUs(out, 1700000000123456);
  EXPECT_EQ(out, "at 2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(FormatTimestampUs(253402300800000000), "10000-01-01T00:00:00.000000Z");
}

}  // namespace
}  // namespace ficus::writer
