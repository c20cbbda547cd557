#include "model/stamp_journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ficus/testing/temp_dir.h"
#include "model/checkpoint_file.h"

namespace ficus::migrator {
namespace {

TEST(StampJournal, AppendLoadsBackExactlyWhatTheCheckpointNames) {
  const ficus::testing::TempDir tmp("ficus-migrator-stamps");
  const std::string& dir = tmp.path();
  StampJournal j(dir + "/cp.json");
  auto empty = j.Load({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "");
  auto a = j.Append({}, "one\n");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (StampJournalPos{0, 4}));
  auto b = j.Append(*a, "two\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(*j.Load(*b), "one\ntwo\n");
  EXPECT_EQ(*j.Load(*a), "one\n");  // a checkpoint at `a` never sees "two"
  std::filesystem::remove_all(dir);
}

// A run appended, then died before its checkpoint: the next run resumes at
// the old position and its append replaces the orphaned tail.
TEST(StampJournal, AnAppendAfterACrashDropsTheUncheckpointedTail) {
  const ficus::testing::TempDir tmp("ficus-migrator-stamps");
  const std::string& dir = tmp.path();
  StampJournal j(dir + "/cp.json");
  auto a = j.Append({}, "one\n");
  ASSERT_TRUE(a);
  ASSERT_TRUE(j.Append(*a, "orphan-that-is-long\n"));
  auto c = j.Append(*a, "three\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(*j.Load(*c), "one\nthree\n");
  EXPECT_EQ(*LoadFile(j.FileOf(0)), "one\nthree\n");
  std::filesystem::remove_all(dir);
}

TEST(StampJournal, RewriteStartsANewGenerationAndTheOldOneStaysUntilForgotten) {
  const ficus::testing::TempDir tmp("ficus-migrator-stamps");
  const std::string& dir = tmp.path();
  StampJournal j(dir + "/cp.json");
  auto a = j.Append({}, "one\ntwo\n");
  ASSERT_TRUE(a);
  auto r = j.Rewrite(*a, "snap\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (StampJournalPos{1, 5}));
  EXPECT_EQ(*j.Load(*r), "snap\n");
  EXPECT_EQ(*j.Load(*a), "one\ntwo\n");  // the last checkpoint still names it
  j.Forget(0);
  EXPECT_FALSE(std::filesystem::exists(j.FileOf(0)));
  std::filesystem::remove_all(dir);
}

TEST(StampJournal, ACheckpointNamingMoreThanThereIsIsANamedError) {
  const ficus::testing::TempDir tmp("ficus-migrator-stamps");
  const std::string& dir = tmp.path();
  StampJournal j(dir + "/cp.json");
  auto missing = j.Load({3, 10});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(dir + "/cp.json.stamps.3"), std::string::npos);
  ASSERT_TRUE(j.Append({}, "ab\n"));
  auto shorter = j.Load({0, 10});
  ASSERT_FALSE(shorter);
  EXPECT_NE(shorter.error().message.find("3 bytes"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ficus::migrator
