#include "domain/checkpoint.h"

#include <gtest/gtest.h>

#include "domain/partition.h"

namespace ficus::migrator {
namespace {

Checkpoint Sample() {
  Checkpoint cp;
  cp.source = "127.0.0.1:3307/ficus";
  const auto ranges = SplitUserIdSpace(2);
  for (const auto& r : *ranges) cp.partitions.push_back({r, "", false, 0});
  cp.partitions[0].last_done = "12345678-0000-4000-8000-000000000000";
  cp.partitions[0].profiles = 17;
  cp.partitions[1].finished = true;
  return cp;
}

TEST(Checkpoint, RoundTrips) {
  const Checkpoint cp = Sample();
  auto back = ParseCheckpoint(SerializeCheckpoint(cp), "cp.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, cp);
  EXPECT_EQ(back->profiles(), 17);
  EXPECT_FALSE(back->finished());
}

TEST(Checkpoint, RejectsCorruptFilesNamingTheField) {
  auto torn = ParseCheckpoint("{\"format\":\"ficus-migrator-check", "cp.json");
  ASSERT_FALSE(torn);
  EXPECT_NE(torn.error().message.find("cp.json: not valid JSON"), std::string::npos);
  std::string text = SerializeCheckpoint(Sample());
  text.replace(text.find("\"profiles\":17"), 13, "\"profiles\":-1");
  auto neg = ParseCheckpoint(text, "cp.json");
  ASSERT_FALSE(neg);
  EXPECT_NE(neg.error().message.find("partitions[0].profiles"), std::string::npos);
  auto other = ParseCheckpoint("{\"format\":\"something-else\"}", "cp.json");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("format"), std::string::npos);
}

TEST(Checkpoint, ResumeNeedsSameSourceAndPartitioning) {
  const Checkpoint cp = Sample();
  EXPECT_TRUE(CheckResumable(cp, cp.source, *SplitUserIdSpace(2), "cp"));
  auto src = CheckResumable(cp, "other:1/db", *SplitUserIdSpace(2), "cp");
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message.find("other:1/db"), std::string::npos);
  auto parts = CheckResumable(cp, cp.source, *SplitUserIdSpace(4), "cp");
  ASSERT_FALSE(parts);
  EXPECT_NE(parts.error().message.find("--partitions 2"), std::string::npos);
}

TEST(ChunkTracker, MarkAdvancesOnlyOverContiguousCompletedChunks) {
  ChunkTracker t;
  const auto a = t.Issue("a", 10);
  const auto b = t.Issue("b", 10);
  const auto c = t.Issue("c", 5);
  t.Complete(c);
  EXPECT_EQ(t.last_done(), "");
  t.Complete(a);
  EXPECT_EQ(t.last_done(), "a");
  EXPECT_EQ(t.profiles_done(), 10);
  t.Complete(b);
  EXPECT_EQ(t.last_done(), "c");
  EXPECT_EQ(t.profiles_done(), 25);
  EXPECT_TRUE(t.idle());
}

TEST(ChunkTracker, ResumesFromTheCheckpointMark) {
  ChunkTracker t("m", 100);
  EXPECT_EQ(t.last_done(), "m");
  t.Complete(t.Issue("n", 3));
  EXPECT_EQ(t.last_done(), "n");
  EXPECT_EQ(t.profiles_done(), 103);
}

}  // namespace
}  // namespace ficus::migrator
