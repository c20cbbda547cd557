// Black-box: request-smuggling shapes and size limits are answered by the
// proxy itself (400/413/414/431 envelopes) and NEVER reach a backend: each
// test reads the backends' request logs afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

constexpr const char* kYaml = R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
limits: {max_uri_bytes: 1024, max_header_bytes: 4096, max_body_bytes: 65536, header_timeout_ms: 500}
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}}
cohorts:
  users: {key: [json:user_id], salt: "s"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: users
    mode: shadow
)";

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    legacy_ = &stack_.StartUpstream("legacy");
    modern_ = &stack_.StartUpstream("modern");
    stack_.StartProxy(kYaml);
  }
  // Nothing at all reached either backend.
  void ExpectBackendsUntouched(const std::string& what) {
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(legacy_->Requests().size(), 0u) << what << " reached legacy";
    EXPECT_EQ(modern_->Requests().size(), 0u) << what << " reached modern";
  }
  void ExpectEnvelope(const ParsedResponse& r, int status, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << "\n" << r.raw;
    auto v = r.Json();
    ASSERT_TRUE(v.is_object()) << what << ": not a JSON envelope: " << r.raw;
    EXPECT_EQ(v.as_object().at("ret").as_int64(), status) << what;
    EXPECT_FALSE(v.as_object().at("msg").as_string().empty()) << what;
  }

  Stack stack_;
  Upstream* legacy_ = nullptr;
  Upstream* modern_ = nullptr;
};

const std::string kLine = "POST /api/v1/profile/update HTTP/1.1\r\nHost: p\r\n";
// A smuggled second request hidden in the body of the first.
const std::string kHidden = "GET /smuggled HTTP/1.1\r\nHost: p\r\n\r\n";

struct Shape {
  const char* name;
  std::string bytes;
};

std::vector<Shape> SmugglingShapes() {
  return {
      {"CL + TE",
       kLine + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + kHidden},
      {"TE + CL",
       kLine + "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + kHidden},
      {"duplicate CL, same value",
       kLine + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}" + kHidden},
      {"duplicate CL, different values",
       kLine + "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + kHidden},
      {"CL list", kLine + "Content-Length: 2, 2\r\n\r\n{}"},
      {"CL with sign", kLine + "Content-Length: +2\r\n\r\n{}"},
      {"CL negative", kLine + "Content-Length: -1\r\n\r\n{}"},
      {"CL hex", kLine + "Content-Length: 0x2\r\n\r\n{}"},
      {"CL not a number", kLine + "Content-Length: two\r\n\r\n{}"},
      {"CL overflow", kLine + "Content-Length: 99999999999999999999999\r\n\r\n{}"},
      {"space before colon", kLine + "Content-Length : 2\r\n\r\n{}"},
      {"TE not chunked", kLine + "Transfer-Encoding: identity\r\n\r\n{}"},
      {"TE chunked twice",
       kLine + "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"TE duplicated field",
       kLine +
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"TE obfuscated", kLine + "Transfer-Encoding: xchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"TE with tab", kLine + "Transfer-Encoding:\tchunked\x0b\r\n\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"bad chunk size (not hex)",
       kLine + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"},
      {"bad chunk size (negative)",
       kLine + "Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n"},
      {"bad chunk size (overflow)",
       kLine + "Transfer-Encoding: chunked\r\n\r\n10000000000000002\r\n{}\r\n0\r\n\r\n"},
      {"chunk shorter than its size",
       kLine + "Transfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n0\r\n\r\n" + kHidden},
      {"chunk size with bare LF", kLine + "Transfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n"},
      {"obs-fold", kLine + "X-Note: a\r\n b\r\nContent-Length: 2\r\n\r\n{}"},
      {"obs-fold with tab",
       kLine + "X-Note: a\r\n\tContent-Length: 40\r\nContent-Length: 2\r\n\r\n{}"},
      {"bare LF in head", "POST /api/v1/profile/update HTTP/1.1\nHost: p\nContent-Length: 2\n\n{}"},
      {"bare CR in head", kLine + "X-A: 1\rContent-Length: 2\r\n\r\n{}"},
      {"NUL in value", kLine + std::string("X-A: a\0b\r\n", 10) + "Content-Length: 2\r\n\r\n{}"},
      {"no Host", "POST /api/v1/profile/update HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"},
      {"two Hosts", kLine + "Host: q\r\nContent-Length: 2\r\n\r\n{}"},
      {"bad version", "POST /api/v1/profile/update HTTP/1.2\r\nHost: p\r\n\r\n"},
      {"two spaces in request line", "POST  /api/v1/profile/update HTTP/1.1\r\nHost: p\r\n\r\n"},
      {"space in target", "POST /api/v1/profile/update x HTTP/1.1\r\nHost: p\r\n\r\n"},
      {"HTTP/0.9", "GET /\r\n\r\n"},
      {"header without colon", kLine + "Content-Length 2\r\n\r\n{}"},
      {"empty header name", kLine + ": x\r\nContent-Length: 2\r\n\r\n{}"},
  };
}

TEST_F(HardeningTest, EverySmugglingShapeIs400AndNeverReachesABackend) {
  for (const auto& s : SmugglingShapes()) {
    auto r = stack_.Request(s.bytes, 3s);
    ExpectEnvelope(r, 400, s.name);
    EXPECT_EQ(r.Header("Connection"), "close") << s.name;
  }
  ExpectBackendsUntouched("a smuggling shape");
  EXPECT_GE(stack_.Metric(R"(ficus_proxy_rejected_requests_total{reason="bad_request"})"),
            static_cast<double>(SmugglingShapes().size()));
  // The proxy still serves well-formed requests afterwards (and they do arrive).
  auto ok = stack_.Request(kLine + "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(legacy_->Requests().size(), 1u);
}

TEST_F(HardeningTest, SmuggledRequestAfterAValidOneOnTheSameConnectionNeverArrives) {
  // First request fine, the second a CL+TE shape: only the first is forwarded.
  Client c(stack_.port());
  auto first = c.RoundTrip(kLine + "Content-Length: 2\r\n\r\n{}");
  ASSERT_EQ(first.status, 200);
  auto second = c.RoundTrip(
      kLine + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + kHidden);
  EXPECT_EQ(second.status, 400);
  std::this_thread::sleep_for(200ms);
  auto got = legacy_->Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("target").as_string(), "/api/v1/profile/update");
}

TEST_F(HardeningTest, UriOverLimitIs414) {
  auto r = stack_.Request("GET /" + std::string(1100, 'a') + " HTTP/1.1\r\nHost: p\r\n\r\n");
  ExpectEnvelope(r, 414, "long uri");
  ExpectBackendsUntouched("a 414");
}

TEST_F(HardeningTest, HeadOverLimitIs431) {
  auto r =
      stack_.Request("GET / HTTP/1.1\r\nHost: p\r\nX-Big: " + std::string(5000, 'b') + "\r\n\r\n");
  ExpectEnvelope(r, 431, "big header");
  std::string many = "GET / HTTP/1.1\r\nHost: p\r\n";
  for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  ExpectEnvelope(stack_.Request(many + "\r\n"), 431, "many headers");
  ExpectBackendsUntouched("a 431");
}

TEST_F(HardeningTest, BodyOverLimitIs413ForContentLengthAndChunked) {
  ExpectEnvelope(stack_.Request(kLine + "Content-Length: 65537\r\n\r\n" + std::string(65537, 'x')),
                 413, "declared body");
  std::string chunked = kLine + "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  ExpectEnvelope(stack_.Request(chunked), 413, "chunked body");
  ExpectBackendsUntouched("a 413");
  // At the limit it is fine, and a chunked body is forwarded de-chunked.
  auto ok = stack_.Request(kLine + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  auto echo = ok.Json().as_object();
  EXPECT_EQ(echo.at("body").as_string(), "{}");
  EXPECT_EQ(EchoHeader(echo, "Transfer-Encoding"), std::nullopt);
  EXPECT_EQ(EchoHeader(echo, "Content-Length"), "2");
}

TEST_F(HardeningTest, SlowHeadIs408AndNeverReachesABackend) {
  Client c(stack_.port());
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.RoundTrip("POST /api/v1/profile/update HTTP/1.1\r\nHost: p\r\n");  // never finished
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  ExpectBackendsUntouched("a slow head");
}

}  // namespace
}  // namespace ficus::proxy::blackbox
