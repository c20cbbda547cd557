#include "service/url.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

TEST(Url, ParsesHostPortAndPrefix) {
  auto u = ParseHttpUrl("http://127.0.0.1:8082/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8082);
  EXPECT_EQ(u->prefix, "");
  auto v = ParseHttpUrl("http://writer.local/base");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->port, 80);
  EXPECT_EQ(v->prefix, "/base");
}

TEST(Url, ErrorsNameTheProblem) {
  auto a = ParseHttpUrl("https://x:1");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("http://"), std::string::npos);
  auto b = ParseHttpUrl("http://x:99999");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("port"), std::string::npos);
  EXPECT_FALSE(ParseHttpUrl("http://:80"));
  EXPECT_FALSE(ParseHttpUrl("http://a b:80"));
}

}  // namespace
}  // namespace ficus::migrator
