#include "ficus/testing/http_text.h"

#include <gtest/gtest.h>

namespace ficus::testing {
namespace {

constexpr const char* kResponse =
    "HTTP/1.1 404 Not Found\r\n"
    "Content-Type: text/plain\r\n"
    "X-Empty:\r\n"
    "x-twice: one\r\n"
    "X-Twice:   two\r\n"
    "\r\n"
    "body: not a header\r\n";

TEST(HttpText, Status) {
  EXPECT_EQ(StatusOf(kResponse), 404);
  EXPECT_EQ(StatusOf("HTTP/1.0 200 OK\r\n\r\n"), 200);
  EXPECT_EQ(StatusOf(""), -1);
  EXPECT_EQ(StatusOf("garbage that is long"), -1);
}

TEST(HttpText, HeadersCaseInsensitiveFirstWinsBodyExcluded) {
  EXPECT_EQ(HeaderOf(kResponse, "content-type"), "text/plain");
  EXPECT_EQ(HeaderOf(kResponse, "X-TWICE"), "one");
  EXPECT_EQ(HeaderOf(kResponse, "X-Empty"), "");
  EXPECT_EQ(HeaderOf(kResponse, "body"), std::nullopt);
  EXPECT_EQ(HeaderOf(kResponse, "Missing"), std::nullopt);
  const auto all = HeadersOf(kResponse);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3], (std::pair<std::string, std::string>{"X-Twice", "two"}));
}

TEST(HttpText, Body) {
  EXPECT_EQ(BodyOf(kResponse), "body: not a header\r\n");
  EXPECT_EQ(BodyOf("HTTP/1.1 200 OK\r\n"), "");
}

TEST(HttpText, IEquals) {
  EXPECT_TRUE(IEquals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(IEquals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(IEquals("a", "b"));
}

}  // namespace
}  // namespace ficus::testing
