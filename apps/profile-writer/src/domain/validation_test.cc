#include "domain/validation.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

TEST(WriterParseUuid, AcceptsAnyCaseAndFormatsLowercase) {
  auto u = ParseUuid("6F1C2A9E-8d0b-4C1E-9a57-3f2d1b0c4e11");
  ASSERT_TRUE(u);
  EXPECT_EQ((*u)[0], 0x6f);
  EXPECT_EQ((*u)[15], 0x11);
  EXPECT_EQ(FormatUuid(*u), "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11");
}

TEST(WriterParseUuid, RejectsNonCanonicalForms) {
  for (const char* bad :
       {"6f1c2a9e8d0b4c1e9a573f2d1b0c4e11", "{6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11}",
        "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e1", "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e1g", "",
        "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11\n", "6f1c2a9e-8d0b-4c1e-9a573-f2d1b0c4e11",
        "urn:uuid:6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"}) {
    auto u = ParseUuid(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().message, "user_id: must be a canonical UUID");
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(WriterValidateAttributeKey, AllowedBytesAndLength) {
  EXPECT_TRUE(ValidateAttributeKey("Az09_.:-"));
  EXPECT_TRUE(ValidateAttributeKey(std::string(64, 'k')));
  auto e = ValidateAttributeKey(std::string(65, 'k'));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "attributes." + std::string(65, 'k') +
                                   ": key must be 1 to 64 bytes of [A-Za-z0-9_.:-]");
  EXPECT_EQ(ValidateAttributeKey("").error().message,
            "attributes.: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]");
  EXPECT_FALSE(ValidateAttributeKey("bad key"));
  EXPECT_FALSE(ValidateAttributeKey("schl\xC3\xBCssel"));
}

TEST(WriterValidateAttributeValue, CountsBytesNotCharacters) {
  EXPECT_TRUE(ValidateAttributeValue("bio", std::string(1024, 'x')));
  std::string e513;
  for (int i = 0; i < 513; ++i) e513 += "\xC3\xA9";
  auto e = ValidateAttributeValue("bio", e513);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "attributes.bio: value longer than 1024 bytes");
}

TEST(WriterValidateAttributeCount, OneToSixtyFour) {
  EXPECT_FALSE(ValidateAttributeCount(0));
  EXPECT_TRUE(ValidateAttributeCount(1));
  EXPECT_TRUE(ValidateAttributeCount(64));
  EXPECT_EQ(ValidateAttributeCount(65).error().message, "attributes: must have 1 to 64 entries");
}

TEST(WriterValidateIdempotencyKey, PrintableAsciiOneTo128) {
  EXPECT_TRUE(ValidateIdempotencyKey("k"));
  EXPECT_TRUE(ValidateIdempotencyKey(std::string(128, '~')));
  EXPECT_FALSE(ValidateIdempotencyKey(""));
  EXPECT_FALSE(ValidateIdempotencyKey(std::string(129, 'k')));
  EXPECT_FALSE(ValidateIdempotencyKey("a b"));
  EXPECT_EQ(ValidateIdempotencyKey("a\x7f").error().message,
            "Idempotency-Key: must be 1 to 128 printable ASCII characters");
}

TEST(WriterParseTimestampHeader, PositiveDigitsOnly) {
  EXPECT_EQ(*ParseTimestampHeader("1700000000123456"), 1700000000123456);
  EXPECT_EQ(*ParseTimestampHeader("9999999999999999"), 9999999999999999);
  for (const char* bad : {"0", "", "12abc", "-5", "+5", "17000000001234567", " 1", "0000"}) {
    auto r = ParseTimestampHeader(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message,
              "X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch");
  }
}

TEST(IsValidUtf8, StrictDecoder) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xE6\x9D\x8E\xE9\x9B\xB7"));  // 李雷
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));          // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));                 // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                 // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));             // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));             // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));         // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE6\x9D"));                 // truncated
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

}  // namespace
}  // namespace ficus::writer
