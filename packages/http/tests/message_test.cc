#include "ficus/http/message.h"

#include <gtest/gtest.h>

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
