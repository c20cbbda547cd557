#include "service/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ficus/testing/temp_dir.h"

namespace ficus::proxy {
namespace {

TEST(AuditLog, AppendsOneJsonObjectPerLine) {
  const ficus::testing::TempDir tmp("ficus-audit");
  const std::string path = tmp.File("audit.jsonl");
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.has_value());
    AuditEntry e;
    e.what = "route profile-update";
    e.before = boost::json::object{{"mode", "shadow"}, {"percent", 0}};
    e.after = boost::json::object{{"mode", "canary"}, {"percent", 12.5}};
    e.when_ms = 1763769673123;
    e.token_name = "ops";
    ASSERT_TRUE((*log)->Append(e));
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 50; ++i) {
          AuditEntry x;
          x.what = "t" + std::to_string(t);
          x.after = boost::json::string(std::string(200, static_cast<char>('a' + t)));
          ASSERT_TRUE((*log)->Append(x));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  std::ifstream in(path);
  std::string line;
  std::vector<boost::json::value> lines;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line));
  ASSERT_EQ(lines.size(), 201u);
  const auto& first = lines[0].as_object();
  EXPECT_EQ(first.at("when").as_string(), "2025-11-22T00:01:13.123Z");
  EXPECT_EQ(first.at("token").as_string(), "ops");
  EXPECT_EQ(first.at("what").as_string(), "route profile-update");
  EXPECT_EQ(first.at("before").at("mode").as_string(), "shadow");
  EXPECT_EQ(first.at("after").at("percent").as_double(), 12.5);
  EXPECT_GT(lines[1].at("when_ms").as_int64(), 1763769673123);  // 0 = now
  // Reopening appends, never truncates.
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->Append(AuditEntry{"again", nullptr, nullptr, 1, "x"}));
  }
  std::ifstream in2(path);
  int count = 0;
  while (std::getline(in2, line)) ++count;
  EXPECT_EQ(count, 202);
  EXPECT_FALSE(AuditLog::Open("/nonexistent-dir/audit.jsonl").has_value());
}

}  // namespace
}  // namespace ficus::proxy
