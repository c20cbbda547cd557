#include "ficus/testing/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "ficus/testing/files.h"

namespace ficus::testing {
namespace {

namespace fs = std::filesystem;

// Unsets FICUS_KEEP_TMP for one test (restored after).
class KeepTmpUnset {
 public:
  KeepTmpUnset() {
    if (const char* v = std::getenv("FICUS_KEEP_TMP")) saved_ = v;
    ::unsetenv("FICUS_KEEP_TMP");
  }
  ~KeepTmpUnset() {
    if (!saved_.empty()) ::setenv("FICUS_KEEP_TMP", saved_.c_str(), 1);
  }

 private:
  std::string saved_;
};

TEST(TempDir, IsAFreshDirectoryRemovedWithItsContent) {
  KeepTmpUnset env;
  std::string path;
  {
    TempDir dir("ficus-tempdir-test");
    path = dir.path();
    ASSERT_TRUE(fs::is_directory(path));
    EXPECT_TRUE(fs::is_empty(path));
    EXPECT_NE(fs::path(path).filename().string().find("ficus-tempdir-test-"), std::string::npos);
    fs::create_directories(path + "/a/b");
    ASSERT_TRUE(WriteFile(dir.File("a/b/c.txt"), "x"));
    EXPECT_EQ(dir.File("x"), path + "/x");
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, TwoAreDifferent) {
  TempDir a, b;
  EXPECT_NE(a.path(), b.path());
}

TEST(TempDir, KeptWhenFicusKeepTmpIsSet) {
  KeepTmpUnset env;
  ::setenv("FICUS_KEEP_TMP", "1", 1);
  std::string path;
  {
    TempDir dir;
    path = dir.path();
  }
  ::unsetenv("FICUS_KEEP_TMP");
  EXPECT_TRUE(fs::is_directory(path));
  fs::remove_all(path);
}

TEST(TempDir, MovedFromRemovesNothing) {
  KeepTmpUnset env;
  TempDir a;
  const std::string path = a.path();
  {
    TempDir b(std::move(a));
    EXPECT_EQ(b.path(), path);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(Files, ReadWriteAndAtomicReplace) {
  TempDir dir;
  const std::string f = dir.File("f");
  EXPECT_EQ(ReadFile(f), "");
  ASSERT_TRUE(WriteFile(f, std::string("a\0b", 3)));
  EXPECT_EQ(ReadFile(f), std::string("a\0b", 3));
  ASSERT_TRUE(WriteFile(f, "new", true));
  EXPECT_EQ(ReadFile(f), "new");
  EXPECT_FALSE(fs::exists(f + ".tmp"));
  EXPECT_FALSE(WriteFile(dir.File("no/such/dir"), "x"));
}

}  // namespace
}  // namespace ficus::testing
