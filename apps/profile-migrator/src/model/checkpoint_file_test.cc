#include "model/checkpoint_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "ficus/testing/temp_dir.h"

namespace ficus::migrator {
namespace {

TEST(CheckpointFile, SaveReplacesAtomicallyAndLoads) {
  const ficus::testing::TempDir tmp("ficus-migrator-cp");
  const std::string& dir = tmp.path();
  const std::string path = dir + "/cp.json";
  auto missing = LoadFile(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(SaveFileAtomic(path, "one"));
  ASSERT_TRUE(SaveFileAtomic(path, "two"));
  EXPECT_EQ(*LoadFile(path), "two");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(CheckpointFile, UnwritableDirectoryIsANamedError) {
  auto s = SaveFileAtomic("/nonexistent-dir-for-migrator/cp.json", "x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/nonexistent-dir-for-migrator/cp.json.tmp"), std::string::npos);
}

}  // namespace
}  // namespace ficus::migrator
