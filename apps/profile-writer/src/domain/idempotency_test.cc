#include "domain/idempotency.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

TEST(WriterIdempotencyDecide, NoRecordProceeds) {
  Fingerprint fp{};
  EXPECT_EQ(Decide(nullptr, fp, 100), IdempotencyDecision::kProceed);
}

TEST(WriterIdempotencyDecide, SameBodyReplaysOtherBodyMismatches) {
  IdempotencyRecord rec;
  rec.created_us = 1000;
  rec.fingerprint[0] = 1;
  Fingerprint same = rec.fingerprint, other{};
  EXPECT_EQ(Decide(&rec, same, 2000), IdempotencyDecision::kReplay);
  EXPECT_EQ(Decide(&rec, other, 2000), IdempotencyDecision::kMismatch);
}

TEST(WriterIdempotencyDecide, ExpiresAfter24Hours) {
  IdempotencyRecord rec;
  rec.created_us = 1000;
  EXPECT_EQ(Decide(&rec, rec.fingerprint, 1000 + kIdempotencyRetentionUs - 1),
            IdempotencyDecision::kReplay);
  EXPECT_EQ(Decide(&rec, rec.fingerprint, 1000 + kIdempotencyRetentionUs),
            IdempotencyDecision::kProceed);
}

}  // namespace
}  // namespace ficus::writer
