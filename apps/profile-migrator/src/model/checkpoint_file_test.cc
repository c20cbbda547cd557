#include "model/checkpoint_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace ficus::migrator {
namespace {

std::string TempDir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("migrator-cp-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(CheckpointFile, SaveReplacesAtomicallyAndLoads) {
  const std::string dir = TempDir();
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
