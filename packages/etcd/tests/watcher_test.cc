// ficus::etcd::Watcher against real etcd: one member, and a 3-member cluster
// whose member under the watch is SIGKILLed.
#include "ficus/etcd/watcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "etcd_harness.h"

namespace ficus::etcd {
namespace {

// Collects what a watcher delivers.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> seen;  // key, value ("" for delete)
  std::vector<int64_t> revisions;
  int connects = 0;
  int losses = 0;
  int64_t compacted = 0;

  WatchCallbacks Callbacks() {
    WatchCallbacks cb;
    cb.on_events = [this](const std::vector<Event>& evs, int64_t rev) {
      std::lock_guard lock(mu);
      for (const auto& e : evs) {
        seen.emplace_back(e.kv.key, e.type == Event::Type::kDelete ? "" : e.kv.value);
      }
      revisions.push_back(rev);
      cv.notify_all();
    };
    cb.on_state = [this](bool up, const std::string&) {
      std::lock_guard lock(mu);
      (up ? connects : losses)++;
      cv.notify_all();
    };
    cb.on_compacted = [this](int64_t rev) {
      std::lock_guard lock(mu);
      compacted = rev;
      cv.notify_all();
    };
    return cb;
  }
  bool WaitFor(size_t n, std::chrono::milliseconds t = std::chrono::seconds(5)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, [&] { return seen.size() >= n; });
  }
  bool WaitConnects(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return connects >= n; });
  }
};

ClientOptions Opts(const std::vector<std::string>& eps) {
  ClientOptions o;
  o.endpoints = eps;
  o.timeout = std::chrono::milliseconds(1500);
  return o;
}

TEST(EtcdWatcher, DeliversPutsAndDeletesInOrderAndResumesFromARevision) {
  testing::EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok());
  auto c = std::move(*Client::Create(Opts(etcd.endpoints())));
  Sink sink;
  auto w = std::make_unique<Watcher>(Opts(etcd.endpoints()),
                                     WatchOptions{"/w/", PrefixEnd("/w/"), 0}, sink.Callbacks());
  w->Start();
  ASSERT_TRUE(sink.WaitConnects(1));
  ASSERT_TRUE(c->Put("/w/a", "1").has_value());
  ASSERT_TRUE(c->Put("/other", "x").has_value());
  ASSERT_TRUE(c->Put("/w/b", "2").has_value());
  auto del_rev = c->Delete("/w/a");
  ASSERT_TRUE(del_rev.has_value());
  ASSERT_TRUE(sink.WaitFor(3));
  {
    std::lock_guard lock(sink.mu);
    ASSERT_EQ(sink.seen.size(), 3u);
    EXPECT_EQ(sink.seen[0], std::make_pair(std::string("/w/a"), std::string("1")));
    EXPECT_EQ(sink.seen[1], std::make_pair(std::string("/w/b"), std::string("2")));
    EXPECT_EQ(sink.seen[2], std::make_pair(std::string("/w/a"), std::string("")));
  }
  // revision() moves after the callbacks of its response have run: wait for it.
  for (int i = 0; i < 200 && w->revision() < *del_rev; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(w->revision(), *del_rev);
  const int64_t resume = w->revision() + 1;
  w->Stop();
  // Changes while nobody watches are delivered by a watcher resuming there.
  ASSERT_TRUE(c->Put("/w/c", "3").has_value());
  ASSERT_TRUE(c->Put("/w/c", "4").has_value());
  Sink later;
  Watcher w2(Opts(etcd.endpoints()), WatchOptions{"/w/", PrefixEnd("/w/"), resume},
             later.Callbacks());
  w2.Start();
  ASSERT_TRUE(later.WaitFor(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard lock(later.mu);
  ASSERT_EQ(later.seen.size(), 2u);
  EXPECT_EQ(later.seen[0].second, "3");
  EXPECT_EQ(later.seen[1].second, "4");
}

TEST(EtcdWatcher, CompactedStartRevisionIsReported) {
  testing::EtcdCluster etcd(1);
  ASSERT_TRUE(etcd.ok());
  auto c = std::move(*Client::Create(Opts(etcd.endpoints())));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Put("/w/k", std::to_string(i)).has_value());
  auto rev = c->Put("/w/k", "last");
  ASSERT_TRUE(c->Call("/v3/kv/compaction", "{\"revision\":\"" + std::to_string(*rev) + "\"}", false)
                  .has_value());
  Sink sink;
  Watcher w(Opts(etcd.endpoints()), WatchOptions{"/w/", PrefixEnd("/w/"), 2}, sink.Callbacks());
  w.Start();
  std::unique_lock lock(sink.mu);
  ASSERT_TRUE(sink.cv.wait_for(lock, std::chrono::seconds(5), [&] { return sink.compacted > 0; }));
  EXPECT_EQ(sink.compacted, *rev);
}

TEST(EtcdWatcher, ResumesOnAnotherMemberWhenItsMemberIsKilled) {
  testing::EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.ok());
  auto c = std::move(*Client::Create(Opts({etcd.endpoint(1), etcd.endpoint(2)})));
  Sink sink;
  // Member 0 first: the watch stream sits on it.
  Watcher w(Opts(etcd.endpoints()), WatchOptions{"/w/", PrefixEnd("/w/"), 0}, sink.Callbacks());
  w.Start();
  ASSERT_TRUE(sink.WaitConnects(1));
  // A writer thread keeps changing keys while member 0 dies.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 200 && !stop.load(); ++i) {
      if (c->Put("/w/n", std::to_string(i)).has_value())
        written = i + 1;
      else
        --i;  // retried: a lost acknowledgement would show as a gap below
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  etcd.Kill(0);
  writer.join();
  ASSERT_EQ(written.load(), 200);
  ASSERT_TRUE(sink.WaitFor(200, std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.seen.size(), 200u) << "events lost or repeated across the member kill";
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sink.seen[i].second, std::to_string(i)) << i;
  for (size_t i = 1; i < sink.revisions.size(); ++i)
    EXPECT_GT(sink.revisions[i], sink.revisions[i - 1]);
  EXPECT_GE(sink.losses, 1);
  EXPECT_GE(sink.connects, 2);
}

}  // namespace
}  // namespace ficus::etcd
