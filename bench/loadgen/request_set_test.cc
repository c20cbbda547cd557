#include "request_set.h"

#include <gtest/gtest.h>

#include <set>

namespace ficus::bench {
namespace {

TEST(RequestSet, UserIdsMatchTheLuaGenerators) {
  // bench/lua/profile_update.lua: string.format("%08x-0000-4000-8000-%012x", i, i*2654435761 %
  // 2^48)
  EXPECT_EQ(UserId(1), "00000001-0000-4000-8000-00009e3779b1");
  EXPECT_EQ(UserId(100000), "000186a0-0000-4000-8000-f16b660fb4a0");
}

TEST(RequestSet, BuildsCompleteRequestsFromATemplate) {
  RequestSpec s;
  s.method = "POST";
  s.path = "/api/v2/profile/update";
  s.host = "127.0.0.1:8082";
  s.headers = {"Content-Type: application/json"};
  s.body_template = R"({"user_id":"{user}","attributes":{{attrs:3}}})";
  s.users = 10;
  s.count = 200;
  auto r = BuildRequests(s);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 200u);
  std::set<std::string> users;
  for (const auto& req : *r) {
    const auto head_end = req.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const std::string head = req.substr(0, head_end + 2);
    const std::string body = req.substr(head_end + 4);
    EXPECT_TRUE(
        head.starts_with("POST /api/v2/profile/update HTTP/1.1\r\nHost: 127.0.0.1:8082\r\n"));
    EXPECT_NE(head.find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    ASSERT_TRUE(body.starts_with(R"({"user_id":")"));
    users.insert(body.substr(12, 36));
    // three distinct "key":"vN" pairs
    const auto attrs = body.substr(body.find(R"("attributes":{)") + 14);
    EXPECT_EQ(std::count(attrs.begin(), attrs.end(), ':'), 3) << body;
    EXPECT_TRUE(attrs.ends_with("}}"));
  }
  EXPECT_EQ(users.size(), 10u);  // random users of the pool of 10, all seen in 200 draws
}

TEST(RequestSet, SequentialUsersAndPathPlaceholders) {
  RequestSpec s;
  s.path = "/api/v2/profile/get?user_id={user}";
  s.sequential = true;
  s.users = 3;
  s.count = 4;
  auto r = BuildRequests(s);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)[0].starts_with("GET /api/v2/profile/get?user_id=" + UserId(1) + " HTTP/1.1"));
  EXPECT_TRUE((*r)[2].starts_with("GET /api/v2/profile/get?user_id=" + UserId(3) + " "));
  EXPECT_TRUE((*r)[3].starts_with("GET /api/v2/profile/get?user_id=" + UserId(1) + " "));
  EXPECT_EQ((*r)[0].find("Content-Length"), std::string::npos);
}

TEST(RequestSet, BodyLinesCycle) {
  RequestSpec s;
  s.method = "PUT";
  s.body_lines = {"a", R"({"u":"{user}"})"};
  s.count = 3;
  auto r = BuildRequests(s);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)[0].ends_with("\r\n\r\na"));
  EXPECT_TRUE((*r)[2].ends_with("\r\n\r\na"));
  EXPECT_NE((*r)[1].find(R"({"u":")"), std::string::npos);
}

TEST(RequestSet, BadInputNamesTheOption) {
  auto err = [](auto edit) {
    RequestSpec s;
    edit(s);
    auto r = BuildRequests(s);
    return r ? std::string("ok") : r.error().message;
  };
  auto e = err([](RequestSpec& s) { s.body_template = "{usr}"; });
  EXPECT_TRUE(e.starts_with("--body: unknown placeholder {usr}")) << e;
  e = err([](RequestSpec& s) { s.body_template = "{attrs:17}"; });
  EXPECT_TRUE(e.starts_with("--body: {attrs:N} needs N in 1..16")) << e;
  e = err([](RequestSpec& s) { s.method = "GE T"; });
  EXPECT_TRUE(e.starts_with("--method")) << e;
  e = err([](RequestSpec& s) { s.path = "api"; });
  EXPECT_TRUE(e.starts_with("--path")) << e;
  e = err([](RequestSpec& s) { s.headers = {"X-Bad\r\nInjected: 1"}; });
  EXPECT_TRUE(e.starts_with("--header")) << e;
  e = err([](RequestSpec& s) { s.headers = {"NoColon"}; });
  EXPECT_TRUE(e.starts_with("--header")) << e;
  e = err([](RequestSpec& s) { s.count = 0; });
  EXPECT_TRUE(e.starts_with("--pregen")) << e;
  EXPECT_EQ(err([](RequestSpec&) {}), "ok");
}

}  // namespace
}  // namespace ficus::bench
