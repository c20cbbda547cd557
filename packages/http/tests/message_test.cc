#include "ficus/http/message.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace ficus::http {
namespace {

TEST(Headers, KeepsOrderAndLooksUpCaseInsensitively) {
  Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.Get("CONTENT-TYPE").value(), "application/json");
  EXPECT_EQ(h.Get("X-a").value(), "1");
  EXPECT_EQ(h.Count("x-A"), 2u);
  EXPECT_FALSE(h.Get("missing").has_value());
  EXPECT_EQ(h[2].name, "x-a");
  EXPECT_EQ(h[2].value, "2");
  h.Set("X-A", "3");
  EXPECT_EQ(h.Count("x-a"), 1u);
  EXPECT_EQ(h.Get("x-a").value(), "3");
  EXPECT_EQ(h.Remove("content-type"), 1u);
  EXPECT_EQ(h.size(), 1u);
  Headers copy = h;
  EXPECT_EQ(copy.Get("x-a").value(), "3");
}

TEST(Headers, SetWithValueAliasingItsOwnBuffer) {
  Headers h;
  h.Add("A", "value-of-a");
  h.Set("B", *h.Get("A"));
  EXPECT_EQ(h.Get("B").value(), "value-of-a");
}

// IEquals and ContainsCrLf work eight bytes at a time: checked against the
// obvious byte loop on every byte value, at every position and length.
bool NaiveIEquals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

TEST(IEquals, MatchesTheByteLoopForEveryByteValue) {
  for (int x = 0; x < 256; ++x) {
    for (int y = 0; y < 256; ++y) {
      for (std::size_t pos : {0u, 5u, 8u, 13u}) {
        std::string a(17, 'k'), b(17, 'K');
        a[pos] = static_cast<char>(x);
        b[pos] = static_cast<char>(y);
        ASSERT_EQ(IEquals(a, b), NaiveIEquals(a, b)) << x << " " << y << " at " << pos;
      }
    }
  }
  std::mt19937 rng(7);
  const std::string alphabet = "aAzZ@[`{-_09~^\x80\xff";
  for (int i = 0; i < 20000; ++i) {
    const std::size_t n = rng() % 24;
    std::string a, b;
    for (std::size_t j = 0; j < n; ++j) {
      a.push_back(alphabet[rng() % alphabet.size()]);
      b.push_back(rng() % 3 == 0 ? alphabet[rng() % alphabet.size()]
                                 : static_cast<char>(static_cast<unsigned char>(a.back()) ^ 0x20U));
    }
    ASSERT_EQ(IEquals(a, b), NaiveIEquals(a, b)) << a << " vs " << b;
  }
  EXPECT_TRUE(IEquals("Content-Length", "content-length"));
  EXPECT_FALSE(IEquals("Content-Length", "content-lengtH "));
  EXPECT_FALSE(IEquals("x^", "x~"));  // differ by 0x20 but are not letters
}

TEST(ContainsCrLf, FindsCrOrLfAtEveryPosition) {
  for (std::size_t n = 0; n < 20; ++n) {
    const std::string clean(n, 'v');
    EXPECT_FALSE(ContainsCrLf(clean)) << n;
    for (std::size_t pos = 0; pos < n; ++pos) {
      for (char bad : {'\r', '\n'}) {
        std::string s = clean;
        s[pos] = bad;
        EXPECT_TRUE(ContainsCrLf(s)) << n << " " << pos;
      }
      std::string near = clean;  // bytes one off CR/LF, and high bytes, are fine
      near[pos] = static_cast<char>(pos % 2 == 0 ? 0x0c : 0x8d);
      EXPECT_FALSE(ContainsCrLf(near)) << n << " " << pos;
    }
  }
}

TEST(Headers, RemoveIfKeepsOrderAndViews) {
  Headers h;
  h.Add("A", "1");
  h.Add("Drop", "x");
  h.Add("B", "2");
  h.Add("drop", "y");
  const std::string_view b_value = h[2].value;
  EXPECT_EQ(h.RemoveIf([](Headers::Field f) { return IEquals(f.name, "drop"); }), 2u);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].name, "A");
  EXPECT_EQ(h[1].name, "B");
  EXPECT_EQ(b_value, "2");  // bytes not moved
  EXPECT_EQ(h.Get("b").value(), "2");
}

TEST(Headers, RemembersAFieldWithCrLf) {
  Headers h;
  h.Add("A", "1");
  h.AddParsed("B", "2");
  EXPECT_FALSE(h.MayContainCrLf());
  h.Add("Evil", "x\r\nInjected: 1");
  EXPECT_TRUE(h.MayContainCrLf());
  Headers copy = h;
  EXPECT_TRUE(copy.MayContainCrLf());
  h.clear();
  EXPECT_FALSE(h.MayContainCrLf());
}

TEST(Request, PathAndDecodedQueryParams) {
  Request r;
  r.target = "/api/v1/profile/get?user_id=ab%2Fcd&x=a+b&empty=&flag";
  EXPECT_EQ(r.Path(), "/api/v1/profile/get");
  EXPECT_EQ(r.QueryParam("user_id").value(), "ab/cd");
  EXPECT_EQ(r.QueryParam("x").value(), "a b");
  EXPECT_EQ(r.QueryParam("empty").value(), "");
  EXPECT_EQ(r.QueryParam("flag").value(), "");
  EXPECT_FALSE(r.QueryParam("nope").has_value());
  r.target = "/p";
  EXPECT_EQ(r.Query(), "");
  EXPECT_FALSE(r.QueryParam("a").has_value());
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

TEST(Response, ErrorIsTheContractEnvelope) {
  Response r = Response::Error(413, "body: larger than 65536 bytes");
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.body, R"({"ret":413,"data":null,"msg":"body: larger than 65536 bytes"})");
  EXPECT_EQ(r.Header("content-type").value(), "application/json; charset=utf-8");
  EXPECT_EQ(Response::Error(400, "a\"b\\c\n\x01/é").body,
            "{\"ret\":400,\"data\":null,\"msg\":\"a\\\"b\\\\c\\n\\u0001/é\"}");
}

TEST(StripHopByHop, RemovesStandardAndConnectionListedFields) {
  Headers h;
  h.Add("Host", "example");
  h.Add("Connection", "keep-alive, X-Secret , Host");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("X-Secret", "s");
  h.Add("Transfer-Encoding", "chunked");
  h.Add("TE", "trailers");
  h.Add("Upgrade", "h2c");
  h.Add("Proxy-Authorization", "x");
  h.Add("X-Keep", "k");
  StripHopByHop(h);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.Get("host").value(), "example");
  EXPECT_EQ(h.Get("x-keep").value(), "k");
}

}  // namespace
}  // namespace ficus::http
