#include "model/intent_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ficus/testing/temp_dir.h"

namespace ficus::proxy {
namespace {

namespace fs = std::filesystem;

class IntentLogTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path(); }

  std::vector<std::string> IntentFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const auto n = e.path().filename().string();
      if (n.rfind("intents-", 0) == 0) out.push_back(n);
    }
    return out;
  }
  // Opens a replay log on the directory, recovers into it, drains it.
  std::vector<ReplayRecord> Recover(uint64_t* count = nullptr) {
    FileReplayLogOptions o;
    o.dir = dir_;
    auto log = FileReplayLog::Open(o);
    EXPECT_TRUE(log) << log.error().message;
    auto n = IntentLog::Recover(dir_, **log);
    EXPECT_TRUE(n) << n.error().message;
    if (count) *count = n ? *n : 0;
    std::vector<ReplayRecord> out;
    for (;;) {
      auto r = (*log)->Claim(std::chrono::milliseconds(0));
      if (!r || !*r) break;
      out.push_back(**r);
      EXPECT_TRUE((*log)->Complete((**r).seq, ReplayOutcome::kDelivered));
    }
    return out;
  }

  static WriteIntent Intent(std::string_view user, std::string_view body) {
    WriteIntent w;
    w.route = "r";
    w.user_key = user;
    w.method = "POST";
    w.legacy_backend = "legacy";
    w.legacy_target = "/v1/u";
    w.modern_backend = "modern";
    w.modern_target = "/v2/u";
    w.headers = {{"X-Ficus-Timestamp", "1700000000000001"}, {"Host", "h"}};
    w.body = body;
    return w;
  }

  ficus::testing::TempDir tmp_{"ficus-intents"};
  std::string dir_;
};

TEST_F(IntentLogTest, UnsettledIntentsAreReplayedToBothSidesSettledOnesAreNot) {
  {
    IntentLog log(dir_);
    const uint64_t a = log.Add(Intent("ua", "{\"a\":1}"));
    const uint64_t b = log.Add(Intent("ub", "{\"b\":2}"));
    EXPECT_NE(a, 0u);
    EXPECT_NE(a, b);
    EXPECT_TRUE(log.Flush());
    log.Settle(a);
    EXPECT_TRUE(log.Flush());
    EXPECT_FALSE(log.Flush()) << "nothing left to write";
    // Killed here: b was never settled.
  }
  uint64_t n = 0;
  auto records = Recover(&n);
  EXPECT_EQ(n, 1u);
  ASSERT_EQ(records.size(), 2u);
  bool legacy = false, modern = false;
  for (const auto& r : records) {
    EXPECT_EQ(r.user_key, "ub");
    EXPECT_EQ(r.body, "{\"b\":2}");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.route, "r");
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[0].first, "X-Ficus-Timestamp");
    EXPECT_EQ(r.headers[0].second, "1700000000000001");
    if (r.backend == "legacy") {
      legacy = true;
      EXPECT_EQ(r.target, "/v1/u");
    } else {
      modern = true;
      EXPECT_EQ(r.backend, "modern");
      EXPECT_EQ(r.target, "/v2/u");
    }
  }
  EXPECT_TRUE(legacy && modern);
  EXPECT_TRUE(IntentFiles().empty()) << "recovered intent files are deleted";
  // Recovered once: a second start has nothing more.
  EXPECT_TRUE(Recover(&n).empty());
  EXPECT_EQ(n, 0u);
}

TEST_F(IntentLogTest, AnIntentNotYetFlushedIsNotKeptATornTailIsCut) {
  {
    IntentLog log(dir_);
    log.Add(Intent("ua", "x"));
    EXPECT_TRUE(log.Flush());
    log.Add(Intent("ub", "y"));  // never flushed: it never left the proxy
  }
  auto files = IntentFiles();
  ASSERT_EQ(files.size(), 1u);
  // A torn frame at the tail (killed inside a write).
  {
    const std::string path = dir_ + "/" + files[0];
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "\x40\x00\x00\x00\x01\x02", 6), 6);
    ::close(fd);
  }
  auto records = Recover();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].user_key, "ua");
  EXPECT_EQ(records[1].user_key, "ua");
}

TEST_F(IntentLogTest, FilesRotateAndGoOnceEveryIntentInThemIsSettled) {
  IntentLog log(dir_, /*rotate_bytes=*/4096);
  const std::string body(1000, 'b');
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(log.Add(Intent("u", body)));
    log.Flush();
  }
  EXPECT_GE(IntentFiles().size(), 4u);
  for (uint64_t id : ids) log.Settle(id);
  log.Flush();
  EXPECT_LE(IntentFiles().size(), 1u) << "settled files are deleted (the current one may stay)";
  EXPECT_EQ(log.Stats().added, 20u);
  EXPECT_EQ(log.Stats().settled, 20u);
  EXPECT_TRUE(Recover().empty());
}

TEST_F(IntentLogTest, EachThreadWritesItsOwnFile) {
  IntentLog log(dir_);
  uint64_t a = log.Add(Intent("ua", "1"));
  log.Flush();
  uint64_t b = 0;
  std::thread t([&] {
    b = log.Add(Intent("ub", "2"));
    log.Flush();
  });
  t.join();
  EXPECT_NE(a, b);
  EXPECT_EQ(IntentFiles().size(), 2u);
  log.Settle(a);
  log.FlushAll();
  auto records = Recover();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].user_key, "ub");
}

}  // namespace
}  // namespace ficus::proxy
