#include "model/file_replay_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "ficus/testing/temp_dir.h"
#include "model/replay_consumer.h"

namespace ficus::proxy {
namespace {

namespace fs = std::filesystem;

class TempDir : public ficus::testing::TempDir {
 public:
  TempDir() : ficus::testing::TempDir("ficus-replay") {}
  [[nodiscard]] std::string Log() const { return File("replay"); }
};

FileReplayLogOptions Opts(const std::string& dir) {
  FileReplayLogOptions o;
  o.dir = dir;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(8);
  return o;
}

ReplayRecord Rec(std::string user, std::string body, std::string route = "profile-update") {
  ReplayRecord r;
  r.route = std::move(route);
  r.backend = "legacy";
  r.user_key = std::move(user);
  r.method = "POST";
  r.target = "/api/v1/profile/update";
  r.headers = {{"Content-Type", "application/json"}, {"X-Ficus-Timestamp", "1763766152123456"}};
  r.body = std::move(body);
  return r;
}

std::unique_ptr<FileReplayLog> MustOpen(const FileReplayLogOptions& o) {
  auto log = FileReplayLog::Open(o);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

ReplayRecord MustClaim(FileReplayLog& log) {
  auto c = log.Claim(std::chrono::milliseconds(1000));
  EXPECT_TRUE(c.has_value());
  EXPECT_TRUE(c->has_value());
  return c && c->has_value() ? **c : ReplayRecord{};
}

std::string LastSegment(const std::string& dir) {
  std::string last;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (n.rfind("seg-", 0) == 0 && n > fs::path(last).filename().string()) last = e.path();
  }
  return last;
}

TEST(FileReplayLog, RecordsSurviveReopenWithHeadersAndOrder) {
  TempDir tmp;
  {
    auto log = MustOpen(Opts(tmp.Log()));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Rec("u1", "body" + std::to_string(i))));
    EXPECT_EQ(log->Stats().backlog, 3u);
  }
  auto log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 3u);
  for (int i = 0; i < 3; ++i) {
    ReplayRecord r = MustClaim(*log);
    EXPECT_EQ(r.body, "body" + std::to_string(i));
    EXPECT_EQ(r.target, "/api/v1/profile/update");
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[1].first, "X-Ficus-Timestamp");
    EXPECT_EQ(r.headers[1].second, "1763766152123456");
    // The next record of the same user is not handed out before this one settles.
    auto none = log->Claim(std::chrono::milliseconds(20));
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  }
  EXPECT_EQ(log->Stats().backlog, 0u);
  EXPECT_EQ(log->Stats().delivered, 3u);
}

TEST(FileReplayLog, CrashBetweenAppendAndAckReplaysTheRecordAgain) {
  TempDir tmp;
  // A child process appends, delivers one record but dies before acking it,
  // and acks another: the real crash (no destructor, no final sync).
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto log = FileReplayLog::Open(Opts(tmp.Log()));
    if (!log) ::_exit(2);
    for (const char* u : {"a", "b"}) {
      if (!(*log)->Append(Rec(u, std::string("from ") + u))) ::_exit(3);
    }
    auto c1 = (*log)->Claim(std::chrono::milliseconds(1000));
    auto c2 = (*log)->Claim(std::chrono::milliseconds(1000));
    if (!c1 || !c2 || !c1->has_value() || !c2->has_value()) ::_exit(4);
    // "a" is acknowledged, "b" was sent but the process dies before the ack.
    const ReplayRecord& acked = (*c1)->user_key == "a" ? **c1 : **c2;
    if (!(*log)->Complete(acked.seq, ReplayOutcome::kDelivered)) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 1u);
  ReplayRecord r = MustClaim(*log);
  EXPECT_EQ(r.user_key, "b");
  EXPECT_EQ(r.body, "from b");
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  log.reset();
  // Once acknowledged it is not replayed again.
  log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 0u);
  auto none = log->Claim(std::chrono::milliseconds(20));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST(FileReplayLog, TornTailIsTruncatedOnOpen) {
  TempDir tmp;
  {
    auto log = MustOpen(Opts(tmp.Log()));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Rec("u", "r" + std::to_string(i))));
  }
  std::string seg = LastSegment(tmp.Log());
  auto good_size = fs::file_size(seg);
  {
    // A frame header promising 100 bytes, then only 10: a torn write.
    std::ofstream f(seg, std::ios::binary | std::ios::app);
    const char torn[18] = {100, 0,   0,   0,   1,   2,   3,   4,   'x',
                           'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
    f.write(torn, sizeof(torn));
  }
  {
    auto log = MustOpen(Opts(tmp.Log()));
    EXPECT_EQ(log->Stats().backlog, 3u);
    EXPECT_EQ(log->Stats().truncated_bytes, 18u);
    EXPECT_EQ(fs::file_size(seg), good_size);
    ASSERT_TRUE(log->Append(Rec("u", "r3")));
  }
  // Corrupt the last record's payload: its CRC fails, it is cut, the rest stays.
  {
    int fd = ::open(seg.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    off_t end = ::lseek(fd, 0, SEEK_END);
    char c = 'Z';
    ASSERT_EQ(::pwrite(fd, &c, 1, end - 1), 1);
    ::close(fd);
  }
  auto log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 3u);
  EXPECT_GT(log->Stats().truncated_bytes, 0u);
  for (int i = 0; i < 3; ++i) {
    ReplayRecord r = MustClaim(*log);
    EXPECT_EQ(r.body, "r" + std::to_string(i));
    ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  }
  // Appends continue after the cut and are readable.
  ASSERT_TRUE(log->Append(Rec("u", "after")));
  EXPECT_EQ(MustClaim(*log).body, "after");
}

// Records the order of delivery per user and checks one user never has two
// records in flight; fails ~25% of sends to exercise backoff.
class CheckingSender : public ReplaySender {
 public:
  ReplayOutcome Send(const ReplayRecord& r) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!in_flight_.insert(r.user_key).second) overlap_ = true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    bool fail;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fail = dist_(rng_) < 25;
      in_flight_.erase(r.user_key);
      if (!fail) delivered_[r.user_key].push_back(r.seq);
    }
    return fail ? ReplayOutcome::kRetry : ReplayOutcome::kDelivered;
  }
  std::mutex mu_;
  std::set<std::string> in_flight_;
  bool overlap_ = false;
  std::map<std::string, std::vector<uint64_t>> delivered_;
  std::mt19937 rng_{42};
  std::uniform_int_distribution<int> dist_{0, 99};
};

TEST(FileReplayLog, DeliversInOrderPerUserUnderConcurrentAppends) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  CheckingSender sender;
  ReplayConsumer consumer(*log, sender, 4);
  consumer.Start();
  std::mutex mu;
  std::map<std::string, std::vector<uint64_t>> appended;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        std::string user = "user" + std::to_string((i + t) % 7);
        // Append and remember the order under one lock so `appended` is the log order.
        std::lock_guard<std::mutex> lock(mu);
        auto seq = log->Append(Rec(user, std::to_string(t) + ":" + std::to_string(i)));
        ASSERT_TRUE(seq.has_value());
        appended[user].push_back(*seq);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 1000 && log->Stats().backlog > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  consumer.Stop();
  auto stats = log->Stats();
  EXPECT_EQ(stats.backlog, 0u);
  EXPECT_EQ(stats.delivered, 600u);
  EXPECT_GT(stats.retries, 0u);
  EXPECT_FALSE(sender.overlap_);
  EXPECT_EQ(sender.delivered_, appended);
}

TEST(FileReplayLog, SizeBoundRefusesWithFullAlarmAndRecovers) {
  TempDir tmp;
  FileReplayLogOptions o = Opts(tmp.Log());
  o.segment_bytes = 8UL * 1024;
  o.max_bytes = 32UL * 1024;
  auto log = MustOpen(o);
  int ok = 0;
  Result<uint64_t> last;
  for (int i = 0; i < 100; ++i) {
    last = log->Append(Rec("u" + std::to_string(i), std::string(1000, 'x')));
    if (!last) break;
    ok++;
  }
  ASSERT_FALSE(last.has_value());
  EXPECT_EQ(last.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(last.error().message.find("replay log full"), std::string::npos);
  EXPECT_GE(ok, 25);
  EXPECT_LE(ok, 32);
  auto s = log->Stats();
  EXPECT_TRUE(s.full);
  EXPECT_TRUE(log->Full());
  EXPECT_LE(s.bytes, o.max_bytes);
  EXPECT_EQ(s.full_rejections, 1u);
  // Draining frees whole segments; appends work again and the alarm clears.
  for (int i = 0; i < ok; ++i) {
    ReplayRecord r = MustClaim(*log);
    ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  }
  EXPECT_LT(log->Stats().bytes, 9u * 1024);
  EXPECT_FALSE(log->Full());  // freed segments clear the alarm before the next append
  ASSERT_TRUE(log->Append(Rec("u", std::string(1000, 'y'))));
  EXPECT_FALSE(log->Stats().full);
  EXPECT_LE(log->Stats().segments, 2u);
}

TEST(FileReplayLog, BacklogIsCountedPerRoute) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Rec("u" + std::to_string(i), "x", "upd")));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(log->Append(Rec("v" + std::to_string(i), "x", "get")));
  EXPECT_EQ(log->Backlog("upd"), 3u);
  EXPECT_EQ(log->Backlog("get"), 2u);
  EXPECT_EQ(log->Backlog("none"), 0u);
  ReplayRecord r = MustClaim(*log);
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kRejected));
  EXPECT_EQ(log->Backlog(r.route), r.route == "upd" ? 2u : 1u);
  EXPECT_EQ(log->Stats().rejected, 1u);
  EXPECT_EQ(log->Stats().backlog, 4u);
  log.reset();
  log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 4u);
  EXPECT_EQ(log->Backlog("upd") + log->Backlog("get"), 4u);
}

TEST(FileReplayLog, PendingIsKnownPerUserAndBackendUntilDeliveredAndAcrossReopen) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->PendingFor("u1", "legacy"), 0U);
  ASSERT_TRUE(log->Append(Rec("u1", "a")));
  ASSERT_TRUE(log->Append(Rec("u1", "b")));
  ReplayRecord m = Rec("u1", "c");
  m.backend = "modern";
  auto held = log->Append(m, /*held=*/true);
  ASSERT_TRUE(held);
  EXPECT_EQ(log->PendingFor("u1", "legacy"), 2U);
  EXPECT_EQ(log->PendingFor("u1", "modern"), 1U);  // held records count
  EXPECT_EQ(log->PendingFor("u2", "legacy"), 0U);
  ASSERT_TRUE(log->Settle(*held));
  EXPECT_EQ(log->PendingFor("u1", "modern"), 0U);
  ReplayRecord r = MustClaim(*log);
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  EXPECT_EQ(log->PendingFor("u1", "legacy"), 1U);
  log.reset();
  log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->PendingFor("u1", "legacy"), 1U);
  r = MustClaim(*log);
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kRejected));
  EXPECT_EQ(log->PendingFor("u1", "legacy"), 0U);
}

TEST(FileReplayLog, RetriesBackOffExponentially) {
  TempDir tmp;
  ManualClock clock;
  FileReplayLogOptions o = Opts(tmp.Log());
  o.initial_backoff = std::chrono::milliseconds(20);
  o.max_backoff = std::chrono::milliseconds(80);
  o.clock = &clock;
  auto log = MustOpen(o);
  ASSERT_TRUE(log->Append(Rec("u", "x")));
  ReplayRecord r = MustClaim(*log);  // the first attempt is due at once
  // 20, 40, 80, 80 (capped) ms of backoff before attempts 2..5: not a
  // microsecond earlier, and at once when the clock gets there.
  for (const int backoff_ms : {20, 40, 80, 80}) {
    ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kRetry));
    auto early = log->Claim(std::chrono::milliseconds(0));
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value()) << "claimed before any backoff of " << backoff_ms << " ms";
    clock.Advance(std::chrono::milliseconds(backoff_ms) - Micros{1});
    early = log->Claim(std::chrono::milliseconds(0));
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value()) << "claimed 1 us before the " << backoff_ms << " ms backoff";
    clock.Advance(Micros{1});
    auto due = log->Claim(std::chrono::milliseconds(0));
    ASSERT_TRUE(due.has_value() && due->has_value()) << "not due after " << backoff_ms << " ms";
    r = **due;
  }
  EXPECT_EQ(log->Stats().retries, 4u);
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  EXPECT_FALSE(log->Complete(r.seq, ReplayOutcome::kDelivered).has_value());  // not claimed
}

TEST(FileReplayLog, OneProcessOwnsTheDirectory) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = FileReplayLog::Open(Opts(tmp.Log()));
    ::_exit(!other && other.error().code == ErrorCode::kUnavailable ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(FileReplayLog, AcksFileStaysBoundedOverManyRecords) {
  TempDir tmp;
  FileReplayLogOptions o = Opts(tmp.Log());
  o.segment_bytes = 16UL * 1024;
  auto log = MustOpen(o);
  // Batches of asynchronous appends share fsyncs (group commit), which also
  // keeps this test fast on a busy disk.
  for (int batch = 0; batch < 120; ++batch) {
    std::mutex m;
    std::condition_variable cv;
    int pending = 100;
    bool all_ok = true;
    for (int i = 0; i < 100; ++i) {
      log->Append(Rec("u", "x"), false, [&](const Result<uint64_t>& r) {
        std::lock_guard<std::mutex> lock(m);
        all_ok = all_ok && r.has_value();
        if (--pending == 0) cv.notify_one();
      });
    }
    {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return pending == 0; });
    }
    ASSERT_TRUE(all_ok);
    for (int i = 0; i < 100; ++i) {
      ReplayRecord r = MustClaim(*log);
      ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
    }
  }
  EXPECT_LT(fs::file_size(tmp.Log() + "/acks.log"), 12u * 12000);
  EXPECT_LE(log->Stats().segments, 2u);
  log.reset();
  log = MustOpen(o);
  EXPECT_EQ(log->Stats().backlog, 0u);
  auto seq = log->Append(Rec("u", "y"));
  ASSERT_TRUE(seq.has_value());
  EXPECT_GT(*seq, 12000u);  // sequence numbers never go back
}

TEST(FileReplayLog, HeldRecordIsNotReplayedAndSettleAcknowledgesIt) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  auto held = log->Append(Rec("u1", "in flight"), /*held=*/true);
  ASSERT_TRUE(held);
  ASSERT_TRUE(log->Append(Rec("u1", "later write of the same user")));
  ASSERT_TRUE(log->Append(Rec("u2", "other user")));
  EXPECT_EQ(log->Stats().held, 1u);
  EXPECT_EQ(log->Backlog("profile-update", "legacy"), 3u);
  EXPECT_EQ(log->Queued("profile-update", "legacy"), 2u);  // the held one is in flight
  // Only u2 is ready: u1's later record waits behind the held one.
  ReplayRecord r = MustClaim(*log);
  EXPECT_EQ(r.user_key, "u2");
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  auto none = log->Claim(std::chrono::milliseconds(20));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  // The mirror delivered it itself: acknowledged without a replay, and the
  // user's next record becomes ready.
  ASSERT_TRUE(log->Settle(*held));
  EXPECT_FALSE(log->Settle(*held));  // not held any more
  r = MustClaim(*log);
  EXPECT_EQ(r.body, "later write of the same user");
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  EXPECT_EQ(log->Stats().backlog, 0u);
  EXPECT_EQ(log->Stats().held, 0u);
  log.reset();
  log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().backlog, 0u);
}

// Record syncs are what callers wait for; acks (a lost one only means a
// repeat) get one fdatasync per interval, not one per sync cycle.
TEST(FileReplayLog, AcksAreSyncedOncePerIntervalNotPerRecord) {
  TempDir tmp;
  auto o = Opts(tmp.Log());
  o.ack_sync_interval = std::chrono::hours(1);
  auto log = MustOpen(o);
  for (int i = 0; i < 20; ++i) {
    auto seq = log->Append(Rec("u" + std::to_string(i), "b"), /*held=*/true);
    ASSERT_TRUE(seq);
    ASSERT_TRUE(log->Settle(*seq));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(log->Stats().record_syncs, 20u);  // each Append waited for its own
  EXPECT_LE(log->Stats().ack_syncs, 1u);      // the first ack only
  log.reset();                                // Close syncs the rest
  log = MustOpen(o);
  EXPECT_EQ(log->Stats().backlog, 0u);

  TempDir tmp2;
  auto every = Opts(tmp2.Log());
  every.ack_sync_interval = std::chrono::milliseconds(0);
  log = MustOpen(every);
  for (int i = 0; i < 20; ++i) {
    auto seq = log->Append(Rec("u" + std::to_string(i), "b"), /*held=*/true);
    ASSERT_TRUE(seq);
    ASSERT_TRUE(log->Settle(*seq));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(log->Stats().ack_syncs, 10u);
}

TEST(FileReplayLog, ReleasedHeldRecordIsReplayedFirst) {
  TempDir tmp;
  auto log = MustOpen(Opts(tmp.Log()));
  auto held = log->Append(Rec("u1", "mirror failed"), true);
  ASSERT_TRUE(held);
  ASSERT_TRUE(log->Append(Rec("u1", "second")));
  ASSERT_TRUE(log->Release(*held));
  ReplayRecord r = MustClaim(*log);
  EXPECT_EQ(r.body, "mirror failed");
  ASSERT_TRUE(log->Complete(r.seq, ReplayOutcome::kDelivered));
  r = MustClaim(*log);
  EXPECT_EQ(r.body, "second");
}

TEST(FileReplayLog, HeldRecordIsReplayedAfterACrash) {
  TempDir tmp;
  // The proxy dies after answering the client, before the mirror's outcome.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto log = FileReplayLog::Open(Opts(tmp.Log()));
    if (!log || !(*log)->Append(Rec("u1", "acknowledged write"), true)) ::_exit(2);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto log = MustOpen(Opts(tmp.Log()));
  EXPECT_EQ(log->Stats().held, 0u);
  ReplayRecord r = MustClaim(*log);
  EXPECT_EQ(r.body, "acknowledged write");
}

}  // namespace
}  // namespace ficus::proxy
