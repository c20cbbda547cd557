#include "api/forward.h"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>

namespace ficus::proxy {
namespace {

http::Headers ClientHeaders() {
  http::Headers h;
  h.Add("Host", "example.test");
  h.Add("Connection", "keep-alive, X-Secret-Hop");
  h.Add("X-Secret-Hop", "1");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("TE", "trailers");
  h.Add("Upgrade", "h2c");
  h.Add("Proxy-Authorization", "Basic x");
  h.Add("Expect", "100-continue");
  h.Add("Content-Length", "12");
  h.Add("Content-Type", "application/json");
  h.Add("X-Ficus-Timestamp", "1");  // a client may not choose the stamp
  h.Add("X-Ficus-Mirror", "1");
  return h;
}

TEST(Forward, StripsHopByHopAndFraming) {
  auto h = ClientHeaders();
  PrepareUpstreamHeaders(h, {"10.0.0.7", "gen-id", 0});
  for (const char* gone :
       {"Connection", "X-Secret-Hop", "Keep-Alive", "TE", "Upgrade", "Proxy-Authorization",
        "Expect", "Content-Length", "X-Ficus-Timestamp", "X-Ficus-Mirror"}) {
    EXPECT_FALSE(h.Contains(gone)) << gone;
  }
  EXPECT_EQ(h.Get("Host"), "example.test");
  EXPECT_EQ(h.Get("Content-Type"), "application/json");
}

TEST(Forward, ForwardedFieldsAreReplacedFromAnUntrustedPeer) {
  auto h = ClientHeaders();
  PrepareUpstreamHeaders(h, {"10.0.0.7", "gen-id", 0});
  EXPECT_EQ(h.Get("X-Forwarded-For"), "10.0.0.7");
  EXPECT_EQ(h.Get("X-Forwarded-Proto"), "http");
  EXPECT_EQ(h.Get("X-Forwarded-Host"), "example.test");
  http::Headers h2;
  h2.Add("X-Forwarded-For", "1.2.3.4");
  h2.Add("X-Forwarded-Proto", "https-lie");
  h2.Add("x-forwarded-host", "bank.test");
  h2.Add("Forwarded", "for=1.2.3.4");
  PrepareUpstreamHeaders(h2, {"10.0.0.7", "gen-id", 0});  // default policy: trust nobody
  EXPECT_EQ(h2.Get("X-Forwarded-For"), "10.0.0.7");
  EXPECT_EQ(h2.Get("X-Forwarded-Proto"), "http");
  EXPECT_EQ(h2.Count("X-Forwarded-For"), 1u);
  EXPECT_FALSE(h2.Contains("X-Forwarded-Host"));  // no Host: none
  EXPECT_FALSE(h2.Contains("Forwarded"));         // off by default, and never the client's
}

TEST(Forward, ForwardedFieldsAreAppendedToFromATrustedPeer) {
  ForwardedPolicy policy;
  policy.trusted.push_back(*ParseCidr("10.0.0.0/8"));
  policy.forwarded = true;
  // Several X-Forwarded-For fields are one list, in order.
  http::Headers h;
  h.Add("Host", "app");
  h.Add("X-Forwarded-For", "1.1.1.1");
  h.Add("x-forwarded-for", "2.2.2.2, 3.3.3.3");
  h.Add("X-Forwarded-Proto", "https");
  h.Add("Forwarded", "for=1.1.1.1");
  h.Add("Forwarded", "for=2.2.2.2");
  PrepareUpstreamHeaders(h, {"10.0.0.7", "gen-id", 0, &policy});
  EXPECT_EQ(h.Get("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.7");
  EXPECT_EQ(h.Count("X-Forwarded-For"), 1u);
  EXPECT_EQ(h.Get("X-Forwarded-Proto"), "https");
  EXPECT_EQ(h.Get("X-Forwarded-Host"), "app");
  EXPECT_EQ(h.Get("Forwarded"), R"(for=1.1.1.1, for=2.2.2.2, for=10.0.0.7;host="app";proto=http)");
  EXPECT_EQ(h.Count("Forwarded"), 1u);
}

TEST(Forward, ConnectionCannotStripHostAndManyTokensStillStrip) {
  http::Headers h;
  h.Add("Host", "a");
  std::string conn = "host";
  for (int i = 0; i < 40; ++i) conn += ", X-H" + std::to_string(i);
  h.Add("Connection", conn);
  h.Add("X-H0", "1");
  h.Add("X-H39", "1");
  h.Add("X-Kept", "1");
  PrepareUpstreamHeaders(h, {"10.0.0.7", "gen-id", 0});
  EXPECT_EQ(h.Get("Host"), "a");
  EXPECT_FALSE(h.Contains("X-H0"));
  EXPECT_FALSE(h.Contains("X-H39"));
  EXPECT_EQ(h.Get("X-Kept"), "1");
}

TEST(Forward, RequestIdKeptWhenSaneElseGenerated) {
  http::Headers keep;
  keep.Add("X-Request-Id", "abc-123");
  EXPECT_EQ(PrepareUpstreamHeaders(keep, {"1.1.1.1", "gen", 0}), "abc-123");
  EXPECT_EQ(keep.Get("X-Request-Id"), "abc-123");
  http::Headers none;
  EXPECT_EQ(PrepareUpstreamHeaders(none, {"1.1.1.1", "gen", 0}), "gen");
  EXPECT_EQ(none.Get("X-Request-Id"), "gen");
  http::Headers bad;
  bad.Add("X-Request-Id", "has space");
  EXPECT_EQ(PrepareUpstreamHeaders(bad, {"1.1.1.1", "gen", 0}), "gen");
  EXPECT_EQ(bad.Count("X-Request-Id"), 1u);
  http::Headers dup;
  dup.Add("X-Request-Id", "a");
  dup.Add("X-Request-Id", "b");
  EXPECT_EQ(PrepareUpstreamHeaders(dup, {"1.1.1.1", "gen", 0}), "gen");
  EXPECT_EQ(dup.Count("X-Request-Id"), 1u);
  EXPECT_FALSE(ValidRequestId(std::string(129, 'a')));
}

TEST(Forward, TimestampStampedOverwritingTheClient) {
  http::Headers h;
  h.Add("X-Ficus-Timestamp", "42");
  h.Add("x-ficus-timestamp", "43");
  PrepareUpstreamHeaders(h, {"1.1.1.1", "gen", 1763766152123456});
  EXPECT_EQ(h.Count("X-Ficus-Timestamp"), 1u);
  EXPECT_EQ(h.Get("X-Ficus-Timestamp"), "1763766152123456");
}

TEST(Forward, RequestHeadSerialization) {
  http::Headers h;
  h.Add("Host", "a");
  h.Add("X-Evil", "x\r\nInjected: 1");  // never sent
  std::string out;
  AppendRequestHead(out, "POST", "/api/v2/profile/update?x=1", h, 5);
  EXPECT_EQ(out,
            "POST /api/v2/profile/update?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
  out.clear();
  AppendRequestHead(out, "GET", "/", h, 0);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  out.clear();
  AppendRequestHead(out, "DELETE", "/", {}, 0, "127.0.0.1:8082");
  EXPECT_EQ(out, "DELETE / HTTP/1.1\r\nHost: 127.0.0.1:8082\r\nContent-Length: 0\r\n\r\n");
}

TEST(Forward, HttpTenRequestWithoutHostGetsOneUpstream) {
  // Found by the request-path fuzzer: HTTP/1.1 upstream requests need Host.
  http::Headers h;
  h.Add("Accept", "*/*");
  std::string out;
  AppendRequestHead(out, "GET", "/x", h, 0, "backend:81");
  EXPECT_EQ(out, "GET /x HTTP/1.1\r\nAccept: */*\r\nHost: backend:81\r\n\r\n");
  h.Add("host", "client.example");
  out.clear();
  AppendRequestHead(out, "GET", "/x", h, 0, "backend:81");
  EXPECT_EQ(out.find("backend:81"), std::string::npos);
}

TEST(Forward, ResponseHeadersLoseHopByHopAndFraming) {
  http::Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("Connection", "close, X-Backend-Hop");
  h.Add("X-Backend-Hop", "1");
  h.Add("Transfer-Encoding", "chunked");
  h.Add("Content-Length", "10");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("Set-Cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  StripResponseFraming(h);  // Connection also names X-Backend-Hop
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.Get("Content-Type"), "application/json");
  EXPECT_EQ(h.Count("Set-Cookie"), 2u);
}

TEST(Forward, StripResponseFramingKeepsEndToEndFields) {
  http::Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("Connection", "keep-alive, X-Backend-Hop");
  h.Add("X-Backend-Hop", "1");
  h.Add("Transfer-Encoding", "chunked");
  h.Add("Content-Length", "10");
  h.Add("Keep-Alive", "timeout=5");
  h.Add("Proxy-Authenticate", "Basic");
  h.Add("Set-Cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  StripResponseFraming(h);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.Get("Content-Type"), "application/json");
  EXPECT_EQ(h.Count("Set-Cookie"), 2u);
}

}  // namespace
}  // namespace ficus::proxy
