// Black-box: large pass-through bodies are streamed through the proxy (its
// memory stays far below the body size), bodies a mirror needs are still
// buffered and mirrored whole, and a body that fails mid-stream is answered
// by the proxy and never reaches a backend as a complete request.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "harness.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

constexpr const char* kYaml = R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
limits: {max_body_bytes: 67108864, body_timeout_ms: 60000}
# A 20 MiB copy on a loaded CI machine can take longer than the default 1 s.
mirror: {timeout_ms: 30000}
backends:
  legacy: {url: http://127.0.0.1:${legacy}}
  modern: {url: http://127.0.0.1:${modern}}
routes:
  - name: upload
    match: {method: POST, path: /upload}
    mode: legacy
  - name: mirrored
    match: {method: POST, path: /mirrored}
    mode: shadow
  - name: moved
    match: {method: POST, path: /moved}
    rewrite: {modern: /moved2}
    mode: full
    mirror: {full_to_legacy: false}
)";

constexpr std::size_t kBig = 20u << 20;  // 20 MiB

// Peak resident set of a process (VmHWM), in bytes; 0 if unreadable.
uint64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

std::string Body(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 13 + i / 4093) % 26);
  return s;
}

std::string Fnv1aHex(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string Chunked(std::string_view body, std::size_t chunk) {
  std::string out;
  out.reserve(body.size() + body.size() / chunk * 12 + 16);
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    auto part = body.substr(i, chunk);
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size;
    out += part;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    legacy_ = &stack_.StartUpstream("legacy");
    modern_ = &stack_.StartUpstream("modern");
    stack_.StartProxy(kYaml);
    // Warm up (first request allocates the pools, log buffers, ...).
    Client c(stack_.port());
    auto r = c.RoundTrip("POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\nhi");
    ASSERT_EQ(r.status, 200) << r.raw;
    baseline_ = PeakRss(stack_.proxy().pid());
    ASSERT_GT(baseline_, 0u);
  }

  // The echo the backend sent back for a digest request.
  static boost::json::object Echo(const ParsedResponse& r) {
    auto v = r.Json();
    EXPECT_TRUE(v.is_object()) << r.raw.substr(0, 500);
    return v.is_object() ? v.as_object() : boost::json::object{};
  }

  uint64_t Growth() {
    const uint64_t g = PeakRss(stack_.proxy().pid()) - baseline_;
    std::printf("proxy peak RSS (VmHWM) %llu KiB at start, grew by %llu KiB\n",
                static_cast<unsigned long long>(baseline_ / 1024),
                static_cast<unsigned long long>(g / 1024));
    return g;
  }

  Stack stack_;
  Upstream* legacy_ = nullptr;
  Upstream* modern_ = nullptr;
  uint64_t baseline_ = 0;
};

TEST_F(StreamTest, TwentyMiBContentLengthBodyPassesThroughWithBoundedProxyMemory) {
  const std::string body = Body(kBig);
  Client c(stack_.port(), 60s);
  auto r = c.RoundTrip(
      "POST /upload HTTP/1.1\r\nHost: p\r\nX-Test-Echo-Body: digest\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(r.status, 200) << r.raw.substr(0, 500);
  auto echo = Echo(r);
  EXPECT_EQ(echo["body_bytes"].as_int64(), static_cast<int64_t>(kBig));
  EXPECT_EQ(echo["body_fnv1a"].as_string(), Fnv1aHex(body));
  EXPECT_EQ(EchoHeader(echo, "Content-Length").value_or(""), std::to_string(kBig));
  EXPECT_FALSE(EchoHeader(echo, "Transfer-Encoding").has_value());
  const uint64_t growth = Growth();
  EXPECT_LT(growth, kBig / 8) << "proxy peak RSS grew by " << growth << " bytes for a " << kBig
                              << "-byte body: it was buffered";
  // The client connection is reusable after a streamed body.
  auto again = c.RoundTrip("POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Echo(again)["body"].as_string(), "abc");
}

TEST_F(StreamTest, TwentyMiBChunkedBodyGoesUpstreamChunkedWithBoundedProxyMemory) {
  const std::string body = Body(kBig);
  Client c(stack_.port(), 60s);
  auto r = c.RoundTrip(
      "POST /anything/else HTTP/1.1\r\nHost: p\r\nX-Test-Echo-Body: digest\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      Chunked(body, 100'000));
  ASSERT_EQ(r.status, 200) << r.raw.substr(0, 500);
  auto echo = Echo(r);
  EXPECT_EQ(echo["upstream"].as_string(), "legacy");  // the default backend
  EXPECT_EQ(echo["body_bytes"].as_int64(), static_cast<int64_t>(kBig));
  EXPECT_EQ(echo["body_fnv1a"].as_string(), Fnv1aHex(body));
  EXPECT_EQ(EchoHeader(echo, "Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(EchoHeader(echo, "Content-Length").has_value());
  const uint64_t growth = Growth();
  EXPECT_LT(growth, kBig / 8) << "proxy peak RSS grew by " << growth << " bytes";
}

TEST_F(StreamTest, MirroredBodyIsBufferedAndBothBackendsGetAllOfIt) {
  // Control for the memory checks above: a body the mirror needs is held
  // whole, and the peak RSS shows it.
  const std::string body = Body(kBig);
  Client c(stack_.port(), 60s);
  auto r = c.RoundTrip(
      "POST /mirrored HTTP/1.1\r\nHost: p\r\nX-Test-Echo-Body: digest\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      Chunked(body, 1 << 20));
  ASSERT_EQ(r.status, 200) << r.raw.substr(0, 500);
  EXPECT_EQ(Echo(r)["body_fnv1a"].as_string(), Fnv1aHex(body));
  auto mirrored = modern_->WaitFor([](const boost::json::object& o) {
    return o.contains("body_bytes") && o.at("body_bytes").as_int64() > 1000;
  });
  ASSERT_TRUE(mirrored.has_value()) << "the mirror never got the body";
  EXPECT_EQ(mirrored->at("body_fnv1a").as_string(), Fnv1aHex(body));
  EXPECT_EQ(EchoHeader(*mirrored, "Content-Length").value_or(""), std::to_string(kBig));
  EXPECT_GE(Growth(), kBig) << "a mirrored body is buffered";
}

TEST_F(StreamTest, BadChunkMidStreamGets400AndNoBackendSeesACompleteRequest) {
  const std::string good = Chunked(Body(300'000), 50'000);
  const std::string bytes =
      "POST /upload HTTP/1.1\r\nHost: p\r\nX-Test-Echo-Body: digest\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      good.substr(0, good.size() - 5) + "zz\r\nmore\r\n0\r\n\r\n";
  auto r = stack_.Request(bytes);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.Header("Connection").value_or(""), "close");
  std::this_thread::sleep_for(200ms);
  for (const auto& o : legacy_->Requests()) {
    EXPECT_FALSE(o.contains("body_bytes") && o.at("body_bytes").as_int64() > 0)
        << "a cut body reached the backend as a complete request";
  }
  // The proxy is fine afterwards.
  auto ok = stack_.Request("POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(ok.status, 200);
  EXPECT_GE(stack_.Metric("ficus_proxy_rejected_requests_total{reason=\"bad_request\"}"), 1);
}

TEST_F(StreamTest, FullModeWithoutMirrorStreamsToTheModernBackendAtTheRewrittenPath) {
  const std::string body = Body(1 << 20);
  Client c(stack_.port(), 30s);
  auto r = c.RoundTrip(
      "POST /moved HTTP/1.1\r\nHost: p\r\nX-Test-Echo-Body: digest\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(r.status, 200) << r.raw.substr(0, 500);
  auto echo = Echo(r);
  EXPECT_EQ(echo["upstream"].as_string(), "modern");
  EXPECT_EQ(echo["target"].as_string(), "/moved2");
  EXPECT_EQ(echo["body_fnv1a"].as_string(), Fnv1aHex(body));
  EXPECT_TRUE(EchoHeader(echo, "X-Ficus-Timestamp").has_value()) << "routed writes are stamped";
  EXPECT_LT(Growth(), body.size() / 2);
  EXPECT_EQ(legacy_->Requests().size(), 1u) << "only the warm-up request reached legacy";
}

TEST(StreamTimeout, SlowStreamedBodyGets408AndNoBackendSeesACompleteRequest) {
  Stack stack;
  auto& legacy = stack.StartUpstream("legacy");
  stack.StartUpstream("modern");
  std::string yaml = kYaml;
  yaml.replace(yaml.find("body_timeout_ms: 60000"), 22, "body_timeout_ms: 400");
  stack.StartProxy(yaml);
  const auto t0 = std::chrono::steady_clock::now();
  // 100 KiB declared, 70 KiB sent: streaming starts, then the client stalls.
  auto r = stack.Request("POST /upload HTTP/1.1\r\nHost: p\r\nContent-Length: 102400\r\n\r\n" +
                         Body(70'000));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_GE(waited, 350ms);
  EXPECT_LT(waited, 5s);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(legacy.Requests().size(), 0u) << "a cut body reached the backend as a request";
  EXPECT_GE(stack.Metric("ficus_proxy_rejected_requests_total{reason=\"body_timeout\"}"), 1);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
