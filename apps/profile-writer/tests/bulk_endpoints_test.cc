// Black-box tests of the bulk endpoints (CONTRACT.md "Bulk endpoints") on
// the real profile-writer binary over HTTP: authentication and the proxy
// guard, 413 before the body is read, per-record results, the single
// update's validation and LWW rules (differential: the same records through
// bulk and through single updates end in byte-identical profiles), one
// group commit per request, 200 only after a WAL fsync (strace), kill -9
// after a 200 loses nothing, atomic=user, and the bulk read.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "writer_process.h"

namespace ficus::writer::testing {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr const char* kSecret = "s3cret-bulk";

std::string UserId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

// A fresh subdirectory of `dir` (one writer's data dir).
std::string Sub(const TempDir& dir, const std::string& name) {
  std::string path = dir.path() + "/" + name;
  ::mkdir(path.c_str(), 0700);
  return path;
}

std::string TokenFile(const TempDir& dir) {
  std::string path = dir.path() + "/bulk.token";
  std::ofstream(path) << "# migrator\nmigrator:" << kSecret << "\n";
  return path;
}

HttpResult Import(int port, const std::string& body, const std::string& query = "",
                  Headers extra = {}) {
  Headers h = {{"Content-Type", "application/x-ndjson"},
               {"Authorization", std::string("Bearer ") + kSecret}};
  for (auto& e : extra) h.push_back(std::move(e));
  return Http(port, "POST", "/internal/profile/import" + query, h, body);
}

HttpResult BulkGet(int port, const std::string& body) {
  return Http(port, "POST", "/internal/profile/get",
              {{"Content-Type", "text/plain"}, {"Authorization", std::string("Bearer ") + kSecret}},
              body);
}

std::string Record(const std::string& user, std::int64_t ts, const std::string& attrs) {
  return "{\"user_id\":\"" + user + "\",\"ts\":" + std::to_string(ts) + ",\"attributes\":" + attrs +
         "}\n";
}

double MetricValue(int port, const std::string& series) {
  std::string text = Http(port, "GET", "/metrics").body;
  std::size_t pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

json::array Results(const HttpResult& r) {
  return json::parse(r.body).at("data").at("results").as_array();
}

TEST(BulkEndpoints, AuthenticationAndProxyGuardBeforeAnythingIsRead) {
  TempDir dir;
  std::string body = Record(UserId(1), 5, R"({"a":"1"})");
  {
    WriterProcess off(Sub(dir, "off"));
    ASSERT_TRUE(off.started()) << off.log_path();
    HttpResult r = Import(off.port(), body);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(
        r.body,
        R"({"ret":403,"data":null,"msg":"--bulk-token-file is not configured: bulk endpoints are disabled"})");
  }
  WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", TokenFile(dir)});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  const int port = writer.port();
  HttpResult none = Http(port, "POST", "/internal/profile/import",
                         {{"Content-Type", "application/x-ndjson"}}, body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  HttpResult wrong =
      Http(port, "POST", "/internal/profile/import",
           {{"Content-Type", "application/x-ndjson"}, {"Authorization", "Bearer x"}}, body);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.body, R"({"ret":403,"data":null,"msg":"authorization: token not accepted"})");
  HttpResult proxied = Import(port, body, "", {{"X-Forwarded-For", "10.0.0.1"}});
  EXPECT_EQ(proxied.status, 403) << proxied.body;
  HttpResult get_wrong = Http(port, "POST", "/internal/profile/get", {}, UserId(1));
  EXPECT_EQ(get_wrong.status, 401);
  HttpResult method = Http(port, "GET", "/internal/profile/import");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.headers["allow"], "POST");
  EXPECT_EQ(Http(port, "GET", "/api/v2/profile/get?user_id=" + UserId(1)).status, 404)
      << "a refused import wrote something";
  EXPECT_EQ(MetricValue(port, "ficus_writer_group_commit_batch_size_count"), 0);
}

// --no-bulk-endpoints: the writer answers as one from before the bulk
// endpoints (404), whatever the token, so tools' fallback to the
// single-update API can be tested against a real writer.
TEST(BulkEndpoints, NoBulkEndpointsAnswers404AsAnOlderWriter) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"),
                       {"--bulk-token-file", TokenFile(dir), "--no-bulk-endpoints"});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  const int port = writer.port();
  HttpResult import = Import(port, Record(UserId(1), 5, R"({"a":"1"})"));
  EXPECT_EQ(import.status, 404) << import.body;
  EXPECT_EQ(BulkGet(port, UserId(1)).status, 404);
  EXPECT_EQ(Http(port, "GET", "/internal/profile/import").status, 404);
  HttpResult single =
      Http(port, "POST", "/api/v2/profile/update", {{"Content-Type", "application/json"}},
           R"({"user_id":")" + UserId(1) + R"(","attributes":{"a":"1"}})");
  EXPECT_EQ(single.status, 200) << single.body;
}

TEST(BulkEndpoints, TooLargeIsRefusedFromTheHead) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"),
                       {"--bulk-token-file", TokenFile(dir), "--bulk-max-body-bytes", "100000"});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  auto start = std::chrono::steady_clock::now();
  // Declares 100 MB and sends 100 bytes: the answer can only come from the head.
  HttpResult big = Http(writer.port(), "POST", "/internal/profile/import",
                        {{"Content-Type", "application/x-ndjson"},
                         {"Authorization", std::string("Bearer ") + kSecret},
                         {"Content-Length", "104857600"}},
                        std::string(100, 'x'), /*send_content_length=*/false);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.body, R"({"ret":413,"data":null,"msg":"body: larger than 100000 bytes"})");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Within the bulk limit but over the single update's: still 413 there.
  std::string pad(70000, ' ');
  HttpResult single = Http(writer.port(), "POST", "/api/v2/profile/update",
                           {{"Content-Type", "application/json"}}, pad + "{}");
  EXPECT_EQ(single.status, 413);
  EXPECT_EQ(single.body, R"({"ret":413,"data":null,"msg":"body: larger than 65536 bytes"})");
  // More records than allowed, wrong media type.
  std::string many;
  for (int i = 0; i < 10001; ++i) many += "{}\n";
  HttpResult too_many = Import(writer.port(), many);
  EXPECT_EQ(too_many.status, 413);
  EXPECT_EQ(too_many.body, R"({"ret":413,"data":null,"msg":"body: more than 10000 records"})");
  HttpResult media = Http(
      writer.port(), "POST", "/internal/profile/import",
      {{"Content-Type", "application/json"}, {"Authorization", std::string("Bearer ") + kSecret}},
      Record(UserId(1), 1, R"({"a":"1"})"));
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(MetricValue(writer.port(), "ficus_writer_group_commit_batch_size_count"), 0);
}

TEST(BulkEndpoints, BadRecordsAreReportedAndNeverStopTheBatchInOneGroupCommit) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", TokenFile(dir)});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  std::string body = Record(UserId(1), 100, R"({"a":"1","b":"1"})") +   // ok
                     "{not json\n" +                                    // 400
                     Record(UserId(2), 100, R"({"bad key":"1"})") +     // 400
                     Record(UserId(2), 100, R"({"ok":"2"})") +          // ok
                     Record(UserId(1), 50, R"({"a":"old","c":"3"})") +  // ok (a loses)
                     Record(UserId(1), 200, R"({"b":null})") +          // ok, tombstone
                     "{\"user_id\":\"" + UserId(3) +
                     "\",\"attributes\":{\"a\":\"1\"}}\n" +                               // no ts
                     Record(UserId(3), 7, "{\"v\":\"" + std::string(1025, 'x') + "\"}");  // 400
  HttpResult r = Import(writer.port(), body);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object data = json::parse(r.body).at("data").as_object();
  EXPECT_EQ(data.at("records").as_int64(), 8);
  EXPECT_EQ(data.at("applied").as_int64(), 4);
  EXPECT_EQ(data.at("rejected").as_int64(), 4);
  json::array res = data.at("results").as_array();
  EXPECT_EQ(
      json::serialize(res),
      R"([{"ret":200},{"ret":400,"msg":"record: malformed JSON"},)"
      R"({"ret":400,"msg":"attributes.bad key: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]"},)"
      R"({"ret":200},{"ret":200},{"ret":200},{"ret":400,"msg":"ts: required"},)"
      R"({"ret":400,"msg":"attributes.v: value longer than 1024 bytes"}])");
  // One synced write for the whole request.
  EXPECT_EQ(MetricValue(writer.port(), "ficus_writer_group_commit_batch_size_count"), 1);
  EXPECT_EQ(MetricValue(writer.port(), "ficus_writer_group_commit_batch_size_sum"), 4);
  HttpResult g1 = Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(1));
  EXPECT_EQ(
      g1.body,
      "{\"ret\":200,\"data\":{\"user_id\":\"" + UserId(1) +
          R"(","updated_at":"1970-01-01T00:00:00.000200Z","attributes":{"a":"1","c":"3"}},"msg":""})");
  EXPECT_EQ(Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(3)).status, 404);
  EXPECT_EQ(
      MetricValue(writer.port(), "ficus_writer_bulk_import_records_total{result=\"rejected\"}"), 4);
}

TEST(BulkEndpoints, SameRecordsThroughBulkAndSingleUpdatesGiveIdenticalProfiles) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", TokenFile(dir)});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  // Random records over 20 users: few keys, colliding and equal stamps,
  // deletions; users 0..19 get them in bulk, users 100..119 one by one.
  std::mt19937 rng(42);
  struct R {
    int user;
    std::int64_t ts;
    std::string attrs;
  };
  std::vector<R> records;
  for (int i = 0; i < 600; ++i) {
    int user = static_cast<int>(rng() % 20);
    std::int64_t ts = 1700000000000000 + static_cast<std::int64_t>(rng() % 50);
    std::string attrs = "{";
    int n = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < n; ++k) {
      if (k > 0) attrs += ",";
      attrs += "\"k" + std::to_string(rng() % 5) + "\":";
      attrs += rng() % 4 == 0 ? std::string("null") : "\"v" + std::to_string(rng() % 7) + "\"";
    }
    attrs += "}";
    records.push_back({user, ts, attrs});
  }
  std::string body;
  for (const auto& r : records) body += Record(UserId(r.user), r.ts, r.attrs);
  HttpResult bulk = Import(writer.port(), body);
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  EXPECT_EQ(json::parse(bulk.body).at("data").at("applied").as_int64(), 600);
  for (const auto& r : records) {
    HttpResult s =
        Http(writer.port(), "POST", "/api/v2/profile/update",
             {{"Content-Type", "application/json"}, {"X-Ficus-Timestamp", std::to_string(r.ts)}},
             "{\"user_id\":\"" + UserId(100 + r.user) + "\",\"attributes\":" + r.attrs + "}");
    ASSERT_EQ(s.status, 200) << s.body;
  }
  for (int u = 0; u < 20; ++u) {
    HttpResult a = Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(u));
    HttpResult b = Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(100 + u));
    ASSERT_EQ(a.status, b.status);
    json::value da = json::parse(a.body).at("data");
    json::value db = json::parse(b.body).at("data");
    EXPECT_EQ(json::serialize(da.at("attributes")), json::serialize(db.at("attributes")))
        << "user " << u;
    EXPECT_EQ(da.at("updated_at"), db.at("updated_at")) << "user " << u;
  }
}

TEST(BulkEndpoints, AtomicUserWithholdsAUserWithARejectedRecord) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", TokenFile(dir)});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  std::string body = Record(UserId(1), 10, R"({"a":"1"})") +
                     Record(UserId(1), 11, R"({"b":")" + std::string(2000, 'x') + "\"}") +
                     Record(UserId(2), 10, R"({"a":"1"})");
  HttpResult r = Import(writer.port(), body, "?atomic=user");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::serialize(Results(r)),
            R"([{"ret":409,"msg":"user_id: not applied: record 2 of this user was rejected"},)"
            R"({"ret":400,"msg":"attributes.b: value longer than 1024 bytes"},{"ret":200}])");
  EXPECT_EQ(Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(1)).status, 404)
      << "half of user 1 was applied";
  EXPECT_EQ(Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + UserId(2)).status, 200);
  EXPECT_EQ(Import(writer.port(), body, "?atomic=maybe").status, 400);
  // Without atomic=user the valid record of user 1 is applied.
  HttpResult loose = Import(writer.port(), body);
  EXPECT_EQ(json::serialize(Results(loose)[0]), R"({"ret":200})");
}

TEST(BulkEndpoints, BulkReadAnswersEveryIdInOrderAsGetDoes) {
  TempDir dir;
  WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", TokenFile(dir)});
  ASSERT_TRUE(writer.started()) << writer.log_path();
  ASSERT_EQ(Import(writer.port(), Record(UserId(1), 10, R"({"a":"x\"y","b":null})") +
                                      Record(UserId(2), 20, R"({"c":"3"})"))
                .status,
            200);
  std::string upper = UserId(2);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  HttpResult r = BulkGet(writer.port(), UserId(1) + "\n" + UserId(9) + "\nnope\n" + upper + "\n");
  ASSERT_EQ(r.status, 200) << r.body;
  json::array p = json::parse(r.body).at("data").at("profiles").as_array();
  ASSERT_EQ(p.size(), 4u);
  for (int i : {0, 3}) {
    std::string id = i == 0 ? UserId(1) : UserId(2);
    HttpResult g = Http(writer.port(), "GET", "/api/v2/profile/get?user_id=" + id);
    json::object want;
    want["ret"] = 200;
    json::value got = json::parse(g.body);
    for (const auto& kv : got.at("data").as_object()) want[kv.key()] = kv.value();
    EXPECT_EQ(json::serialize(p[static_cast<std::size_t>(i)]), json::serialize(want));
  }
  EXPECT_EQ(json::serialize(p[1]), "{\"ret\":404,\"user_id\":\"" + UserId(9) +
                                       R"(","msg":"user_id: no profile for this user"})");
  EXPECT_EQ(json::serialize(p[2]), R"({"ret":400,"msg":"user_id: must be a canonical UUID"})");
}

// Under strace: every import 200 is sent after a WAL fsync that completed
// since the previous answer; the same check must catch --unsafe-no-sync.
int UnsyncedImportAnswers(const TempDir& dir, const std::string& sub,
                          std::vector<std::string> flags, int requests) {
  std::string trace = dir.path() + "/" + sub + ".strace";
  flags.emplace_back("--bulk-token-file");
  flags.push_back(TokenFile(dir));
  WriterProcess writer(Sub(dir, sub), std::move(flags),
                       {"/usr/bin/strace", "-f", "-qq", "-s", "512", "-o", trace, "-e",
                        "trace=fsync,fdatasync,sendto,sendmsg,write,writev"});
  if (!writer.started()) return -1;
  for (int i = 0; i < requests; ++i) {
    std::string body;
    for (int u = 0; u < 50; ++u) body += Record(UserId(u), 1000 + i, R"({"k":"v"})");
    if (Import(writer.port(), body).status != 200) return -1;
  }
  std::ifstream children("/proc/" + std::to_string(writer.pid()) + "/task/" +
                         std::to_string(writer.pid()) + "/children");
  pid_t traced = 0;
  if (!(children >> traced) || traced <= 0) return -1;
  ::kill(traced, SIGTERM);
  if (writer.Wait() != 0) return -1;
  std::ifstream in(trace);
  std::string line;
  bool synced = false;
  int acks = 0, unsynced = 0;
  while (std::getline(in, line)) {
    bool is_sync = line.find("fdatasync(") != std::string::npos ||
                   line.find("fsync(") != std::string::npos ||
                   line.find("fdatasync resumed>") != std::string::npos ||
                   line.find("fsync resumed>") != std::string::npos;
    if (line.find("\\\"status\\\":\\\"ready\\\"") != std::string::npos) {
      synced = false;
    } else if (is_sync && line.find("unfinished") == std::string::npos &&
               line.find(" = 0") != std::string::npos) {
      synced = true;
    } else if (line.find("HTTP/1.1 200") != std::string::npos &&
               line.find("unfinished") == std::string::npos) {
      ++acks;
      if (!synced) ++unsynced;
      synced = false;
    }
  }
  if (acks != requests) return -1;
  return unsynced;
}

TEST(BulkEndpoints, EveryImport200IsSentOnlyAfterAWalFsync) {
  if (::access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "strace not installed";
  TempDir dir;
  int unsynced = UnsyncedImportAnswers(dir, "durable", {}, 10);
  ASSERT_GE(unsynced, 0) << "strace run failed; see " << dir.path();
  EXPECT_EQ(unsynced, 0);
  int unsafe = UnsyncedImportAnswers(dir, "unsafe", {"--unsafe-no-sync"}, 10);
  ASSERT_GE(unsafe, 0);
  EXPECT_EQ(unsafe, 10) << "the check cannot tell a non-durable writer apart";
}

TEST(BulkEndpoints, AnImported200SurvivesKillDashNine) {
  TempDir dir;
  std::string token = TokenFile(dir);
  {
    WriterProcess writer(Sub(dir, "db"), {"--bulk-token-file", token});
    ASSERT_TRUE(writer.started()) << writer.log_path();
    std::string body;
    for (int u = 0; u < 500; ++u) body += Record(UserId(u), 77, R"({"k":"durable"})");
    ASSERT_EQ(Import(writer.port(), body).status, 200);
    writer.Signal(SIGKILL);
    EXPECT_EQ(writer.Wait(), 128 + SIGKILL);
  }
  WriterProcess again(Sub(dir, "db"), {"--bulk-token-file", token});
  ASSERT_TRUE(again.started()) << again.log_path();
  std::string ids;
  for (int u = 0; u < 500; ++u) ids += UserId(u) + "\n";
  HttpResult r = BulkGet(again.port(), ids);
  ASSERT_EQ(r.status, 200);
  int present = 0;
  json::value doc = json::parse(r.body);
  for (const auto& p : doc.at("data").at("profiles").as_array()) {
    if (p.at("ret").as_int64() == 200 && p.at("attributes").at("k") == "durable") ++present;
  }
  EXPECT_EQ(present, 500);
}

}  // namespace
}  // namespace ficus::writer::testing
