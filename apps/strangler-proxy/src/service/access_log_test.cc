#include "service/access_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "ficus/testing/temp_dir.h"

namespace ficus::proxy {
namespace {

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    path_ = tmp_.File("access.log");
  }
  [[nodiscard]] std::string Contents() const {
    std::ifstream f(path_, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  ficus::testing::TempDir tmp_{"ficus-access-log"};
  std::string dir_, path_;
};

TEST_F(AccessLogTest, FileHoldsOnlyWholeLinesWhileBuffering) {
  AccessLog log;
  ASSERT_TRUE(log.Open(path_));
  // Lines that do not divide the buffer size: a byte-count flush would cut one.
  const std::string line(97, 'x');
  for (int i = 0; i < 3000; ++i) {
    log.Write(line);
    if (i % 20 != 19) continue;
    const std::string c = Contents();
    ASSERT_TRUE(c.empty() || c.back() == '\n') << "torn line after " << i + 1 << " writes";
    ASSERT_EQ(c.size() % (line.size() + 1), 0U);
  }
  EXPECT_FALSE(Contents().empty()) << "a full buffer is written out without Flush()";
  log.Flush();
  EXPECT_EQ(Contents().size(), 3000 * (line.size() + 1));
}

TEST_F(AccessLogTest, OpenStartsAFreshLineAfterATornOne) {
  {
    std::ofstream f(path_, std::ios::binary);
    f << "{\"whole\":1}\n{\"torn\":";  // what a crash mid-write leaves
  }
  AccessLog log;
  ASSERT_TRUE(log.Open(path_));
  log.Write("{\"next\":2}");
  log.Flush();
  EXPECT_EQ(Contents(), "{\"whole\":1}\n{\"torn\":\n{\"next\":2}\n");
}

TEST_F(AccessLogTest, OpenLeavesAWholeFileAlone) {
  {
    std::ofstream f(path_, std::ios::binary);
    f << "{\"whole\":1}\n";
  }
  AccessLog log;
  ASSERT_TRUE(log.Open(path_));
  log.Write("{\"next\":2}");
  log.Flush();
  EXPECT_EQ(Contents(), "{\"whole\":1}\n{\"next\":2}\n");
}

TEST_F(AccessLogTest, OffIsDisabledAndBadPathNamesTheKey) {
  AccessLog off;
  ASSERT_TRUE(off.Open("off"));
  EXPECT_FALSE(off.enabled());
  AccessLog bad;
  auto s = bad.Open(dir_ + "/no/such/dir/access.log");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.rfind("access_log: ", 0), 0U) << s.error().message;
}

}  // namespace
}  // namespace ficus::proxy
