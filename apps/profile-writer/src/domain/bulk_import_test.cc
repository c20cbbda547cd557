#include "domain/bulk_import.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

Uuid U(std::uint8_t b) {
  Uuid u{};
  u[0] = b;
  return u;
}

ImportRecord Ok(std::uint8_t user) {
  ProfileUpdate u;
  u.user = U(user);
  u.ts_us = 1;
  u.attributes["k"] = "v";
  return ImportRecord{U(user), u};
}

ImportRecord Bad(std::optional<std::uint8_t> user) {
  ImportRecord r{std::nullopt, MakeError(ErrorCode::kInvalidArgument, "bad")};
  if (user) r.user = U(*user);
  return r;
}

TEST(BulkImport, AtomicUserWithholdsOnlyTheRejectedUsersOtherRecords) {
  std::vector<ImportRecord> records = {Ok(1), Ok(2), Bad(1), Ok(1), Bad(std::nullopt), Ok(3)};
  WithholdUsersWithRejections(records);
  ASSERT_FALSE(records[0].update);
  EXPECT_EQ(records[0].update.error().code, ErrorCode::kConflict);
  EXPECT_EQ(records[0].update.error().message,
            "user_id: not applied: record 3 of this user was rejected");
  EXPECT_TRUE(records[1].update);
  EXPECT_EQ(records[2].update.error().code, ErrorCode::kInvalidArgument);  // its own error kept
  EXPECT_FALSE(records[3].update);
  EXPECT_EQ(records[4].update.error().message, "bad");  // a record without a user touches nobody
  EXPECT_TRUE(records[5].update);
}

TEST(BulkImport, NothingRejectedChangesNothing) {
  std::vector<ImportRecord> records = {Ok(1), Ok(1), Ok(2)};
  WithholdUsersWithRejections(records);
  for (const auto& r : records) EXPECT_TRUE(r.update);
}

}  // namespace
}  // namespace ficus::writer
