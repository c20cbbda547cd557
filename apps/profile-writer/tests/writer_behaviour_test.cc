// Black-box behaviour of the real profile-writer binary (port 0, temp dir):
// concurrent last-write-wins, crash durability, rejected input, SIGTERM
// drain, overload, config errors.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "writer_process.h"

namespace ficus::writer::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string UserId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

HttpResult Post(int port, const std::string& body, Headers extra = {}) {
  Headers h = {{"Content-Type", "application/json"}};
  for (auto& e : extra) h.push_back(std::move(e));
  return Http(port, "POST", "/api/v2/profile/update", h, body);
}

HttpResult GetProfile(int port, const std::string& user) {
  return Http(port, "GET", "/api/v2/profile/get?user_id=" + user);
}

json::object Attributes(const HttpResult& r) {
  return json::parse(r.body).at("data").at("attributes").as_object();
}

double MetricValue(int port, const std::string& series) {
  std::string text = Http(port, "GET", "/metrics").body;
  std::size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

TEST(WriterBlackBox, ThirtyTwoConcurrentClientsEndInLastWriteWinsState) {
  TempDir dir;
  WriterProcess writer(dir.path());
  ASSERT_TRUE(writer.started()) << writer.log_path();
  constexpr int kClients = 32, kPerClient = 40, kUsers = 4;
  constexpr std::int64_t kBase = 1700000000000000;
  struct Write {
    std::int64_t ts;
    int client;
    bool delete_k;
  };
  std::mutex mu;
  std::map<int, std::vector<Write>> writes;  // by user
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(c);
      for (int i = 0; i < kPerClient; ++i) {
        int user = static_cast<int>(rng() % kUsers);
        // Unique stamps, deliberately out of order across clients.
        std::int64_t ts = kBase + static_cast<std::int64_t>(rng() % 1000000) * 64 + c;
        bool del = i % 7 == 3;
        std::string body = "{\"user_id\":\"" + UserId(user) + "\",\"attributes\":{\"k\":" +
                           (del ? std::string("null") : "\"" + std::to_string(ts) + "\"") + ",\"c" +
                           std::to_string(c) + "\":\"" + std::to_string(ts) + "\"}}";
        HttpResult r = Post(writer.port(), body, {{"X-Ficus-Timestamp", std::to_string(ts)}});
        if (r.status != 200) {
          failures++;
          continue;
        }
        std::lock_guard lock(mu);
        writes[user].push_back({ts, c, del});
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (auto& [user, ws] : writes) {
    // Expected state: per key, the write with the greatest stamp.
    std::map<std::string, std::pair<std::int64_t, std::optional<std::string>>> want;
    std::int64_t max_ts = 0;
    for (const Write& w : ws) {
      max_ts = std::max(max_ts, w.ts);
      auto set = [&](const std::string& key, std::optional<std::string> v) {
        auto it = want.find(key);
        if (it == want.end() || it->second.first < w.ts) want[key] = {w.ts, std::move(v)};
      };
      set("k", w.delete_k ? std::nullopt : std::optional<std::string>(std::to_string(w.ts)));
      set("c" + std::to_string(w.client), std::to_string(w.ts));
    }
    json::object expected;
    for (auto& [k, v] : want) {
      if (v.second) expected[k] = *v.second;
    }
    HttpResult g = GetProfile(writer.port(), UserId(user));
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(Attributes(g), expected) << "user " << user << ": " << g.body;
    std::time_t secs = static_cast<std::time_t>(max_ts / 1000000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char ts_text[64];
    std::size_t n = std::strftime(ts_text, sizeof ts_text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts_text + n, sizeof ts_text - n, ".%06lldZ",
                  static_cast<long long>(max_ts % 1000000));
    EXPECT_EQ(json::parse(g.body).at("data").at("updated_at").as_string(), ts_text)
        << "updated_at must be the greatest stamp applied";
  }
}

// kill -9 loses the process, not the page cache, so this catches a 200 sent
// for an update that was never written (or lost by recovery), not a missing
// fsync: WriterLifecycle.EveryUpdate200IsSentOnlyAfterAWalFsync checks that.
TEST(WriterBlackBox, CrashUnderLoadLosesNoAcknowledgedUpdate) {
  TempDir dir;
  constexpr int kClients = 16, kUsers = 64;
  std::mutex mu;
  std::map<int, std::vector<std::string>> acked;  // user -> keys acknowledged with 200
  std::atomic<bool> stop{false};
  std::atomic<int> acked_count{0};
  {
    WriterProcess writer(dir.path());
    ASSERT_TRUE(writer.started()) << writer.log_path();
    std::vector<std::thread> threads;
    threads.reserve(kClients);
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; !stop.load(); ++i) {
          int user = (c * 7 + i) % kUsers;
          std::string key = "t" + std::to_string(c) + "_" + std::to_string(i);
          HttpResult r = Post(writer.port(), "{\"user_id\":\"" + UserId(user) +
                                                 "\",\"attributes\":{\"" + key + "\":\"v\"}}");
          if (r.status == 200) {
            std::lock_guard lock(mu);
            acked[user].push_back(key);
            acked_count++;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    writer.Signal(SIGKILL);  // mid-load: requests are in flight
    EXPECT_EQ(writer.Wait(), 128 + SIGKILL);
    stop = true;
    for (auto& t : threads) t.join();
  }
  ASSERT_GT(acked_count.load(), 100) << "load too small to mean anything";
  WriterProcess restarted(dir.path());
  ASSERT_TRUE(restarted.started()) << restarted.log_path();
  int present = 0, missing = 0;
  for (auto& [user, keys] : acked) {
    HttpResult g = GetProfile(restarted.port(), UserId(user));
    ASSERT_EQ(g.status, 200) << g.body;
    json::object attrs = Attributes(g);
    for (const auto& k : keys) (attrs.contains(k) ? present : missing)++;
  }
  std::printf(
      "crash test: %d updates acknowledged before kill -9, %d present after restart, "
      "%d missing\n",
      acked_count.load(), present, missing);
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(present, acked_count.load());
}

TEST(WriterBlackBox, RejectedRequestsLeaveTheStoreUnchanged) {
  TempDir dir;
  WriterProcess writer(dir.path());
  ASSERT_TRUE(writer.started()) << writer.log_path();
  std::string u = UserId(7);
  ASSERT_EQ(Post(writer.port(), "{\"user_id\":\"" + u + "\",\"attributes\":{\"a\":\"1\"}}",
                 {{"Idempotency-Key", "k1"}})
                .status,
            200);
  std::string before = GetProfile(writer.port(), u).body;
  double batches = MetricValue(writer.port(), "ficus_writer_group_commit_batch_size_count");
  ASSERT_GE(batches, 1);
  struct Bad {
    std::string body;
    Headers headers;
    int status;
  };
  std::string pre = "{\"user_id\":\"" + u + "\",\"attributes\":";
  std::vector<Bad> bad = {
      {pre + "{\"a\":\"2\",\"b\":5}}", {}, 400},
      {pre + "{\"a\":\"2\",\"bad key\":\"x\"}}", {}, 400},
      {pre + "{\"a\":\"" + std::string(1025, 'x') + "\"}}", {}, 400},
      {pre + "{\"a\":\"2\"}", {}, 400},
      {pre + "{\"a\":\"2\"},\"extra\":1}", {}, 400},
      {pre + "{\"a\":\"2\"}}", {{"X-Ficus-Timestamp", "0"}}, 400},
      {pre + "{\"a\":\"2\"}}", {{"Idempotency-Key", "k1"}}, 422},
      {pre + "{\"a\":\"" + std::string(70000, 'x') + "\"}}", {}, 413},
  };
  for (const auto& b : bad) {
    HttpResult r = Post(writer.port(), b.body, b.headers);
    EXPECT_EQ(r.status, b.status) << r.body;
  }
  HttpResult wrong_type = Http(writer.port(), "POST", "/api/v2/profile/update",
                               {{"Content-Type", "text/plain"}}, pre + "{\"a\":\"2\"}}");
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(GetProfile(writer.port(), u).body, before);
  EXPECT_EQ(MetricValue(writer.port(), "ficus_writer_group_commit_batch_size_count"), batches)
      << "a rejected request reached the store";
}

TEST(WriterBlackBox, SigtermDrainsInFlightAndExitsZero) {
  TempDir dir;
  std::mutex mu;
  std::vector<std::pair<int, std::string>> acked;
  std::atomic<bool> stop{false};
  {
    WriterProcess writer(dir.path());
    ASSERT_TRUE(writer.started()) << writer.log_path();
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int c = 0; c < 8; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; !stop.load(); ++i) {
          std::string key = "s" + std::to_string(c) + "_" + std::to_string(i);
          HttpResult r = Post(writer.port(), "{\"user_id\":\"" + UserId(c) +
                                                 "\",\"attributes\":{\"" + key + "\":\"v\"}}");
          if (r.status == 200) {
            std::lock_guard lock(mu);
            acked.emplace_back(c, key);
          } else if (r.status == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    writer.Signal(SIGTERM);
    EXPECT_EQ(writer.Wait(), 0) << "log: " << writer.log_path();
    stop = true;
    for (auto& t : threads) t.join();
  }
  ASSERT_GT(acked.size(), 10u);
  WriterProcess restarted(dir.path());
  ASSERT_TRUE(restarted.started());
  std::map<int, json::object> profiles;
  for (int c = 0; c < 8; ++c) profiles[c] = Attributes(GetProfile(restarted.port(), UserId(c)));
  int missing = 0;
  for (auto& [c, key] : acked) missing += profiles[c].contains(key) ? 0 : 1;
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged";
}

TEST(WriterBlackBox, OverloadAnswers503WithRetryAfter) {
  TempDir dir;
  WriterProcess writer(dir.path(), {"--queue-size", "1", "--max-batch", "1"});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int c = 0; c < 32; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < 20; ++i) {
        HttpResult r =
            Post(writer.port(), "{\"user_id\":\"" + UserId(c) + "\",\"attributes\":{\"a\":\"" +
                                    std::to_string(i) + "\"}}");
        if (r.status == 200) {
          ok++;
        } else if (r.status == 503 && r.headers["retry-after"] == "1" &&
                   r.body == R"({"ret":503,"data":null,"msg":"overloaded: retry later"})") {
          overloaded++;
        } else {
          other++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(overloaded.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

TEST(WriterBlackBox, HealthReadyAndMetricsEndpoints) {
  TempDir dir;
  WriterProcess writer(dir.path());
  ASSERT_TRUE(writer.started()) << writer.log_path();
  EXPECT_EQ(Http(writer.port(), "GET", "/healthz").body,
            R"({"ret":200,"data":{"status":"ok"},"msg":""})");
  EXPECT_EQ(Http(writer.port(), "GET", "/readyz").status, 200);
  HttpResult unknown = Http(writer.port(), "GET", "/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"ret":404,"data":null,"msg":"path: no such endpoint"})");
  ASSERT_EQ(Post(writer.port(), "{\"user_id\":\"" + UserId(1) + "\",\"attributes\":{\"a\":\"1\"}}")
                .status,
            200);
  std::string m = Http(writer.port(), "GET", "/metrics").body;
  for (const char* want :
       {"# HELP ficus_writer_http_requests_total ",
        "ficus_writer_http_requests_total{route=\"update\",status=\"200\"} 1",
        "# HELP ficus_writer_http_request_duration_seconds ",
        "# HELP ficus_writer_group_commit_batch_size ", "# HELP ficus_writer_wal_sync_seconds ",
        "# HELP ficus_writer_http_requests_in_flight ", "# HELP ficus_writer_write_queue_depth ",
        "ficus_writer_group_commit_batch_size_count 1"}) {
    EXPECT_NE(m.find(want), std::string::npos) << want;
  }
}

TEST(WriterBlackBox, BadConfigExitsTwoNamingTheFlag) {
  struct Case {
    std::string args, want;
  };
  for (const Case& c : std::vector<Case>{{"--data-dir /tmp/x --threads 0", "--threads"},
                                         {"--threads 1", "--data-dir"},
                                         {"--data-dir /tmp/x --listen nope", "--listen"},
                                         {"--data-dir /tmp/x --bogus 1", "--bogus"}}) {
    std::string cmd = std::string(FICUS_WRITER_BINARY) + " " + c.args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    EXPECT_EQ(WEXITSTATUS(status), 2) << c.args << ": " << out;
    EXPECT_NE(out.find(c.want), std::string::npos) << c.args << ": " << out;
  }
}

}  // namespace
}  // namespace ficus::writer::testing
