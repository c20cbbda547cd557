// Requests without a body are parsed by ValidateHead() alone (Beast is not
// run on their head a second time). The property that keeps this honest:
// every such head the parser takes, Beast takes too, with the same method,
// target, version, keep-alive and fields.
#include <gtest/gtest.h>

#include <boost/beast/http/basic_parser.hpp>
#include <random>
#include <string>
#include <vector>

#include "ficus/http/request_parser.h"

namespace ficus::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct BeastHead {
  bool ok = false;
  std::string method, target;
  int version = 0;
  bool keep_alive = false;
  bool has_body = false;
  std::vector<std::pair<std::string, std::string>> fields;
};

class Collect final : public bhttp::basic_parser<true> {
 public:
  explicit Collect(BeastHead* h) : h_(h) {}

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    h_->method = std::string(method);
    h_->target = std::string(target);
    h_->version = version;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    h_->fields.emplace_back(std::string(name), std::string(value));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {
    h_->has_body = true;
  }
  std::size_t on_body_impl(beast::string_view b, beast::error_code&) override { return b.size(); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view b, beast::error_code&) override {
    return b.size();
  }
  void on_finish_impl(beast::error_code&) override {}
  BeastHead* h_;
};

BeastHead ParseWithBeast(std::string_view head) {
  BeastHead h;
  Collect p(&h);
  p.eager(true);
  beast::error_code ec;
  const std::size_t used = p.put(boost::asio::buffer(head.data(), head.size()), ec);
  h.ok = !ec && p.is_header_done() && used == head.size() && p.is_done();
  h.keep_alive = p.keep_alive();
  return h;
}

// Checks the agreement when the parser takes `bytes` without Beast (a whole
// head, no body); returns whether it did (false: nothing was compared).
bool ExpectAgreement(const std::string& bytes) {
  RequestParser parser(ParserLimits{});
  std::size_t consumed = 0;
  if (parser.ParseHead(bytes, &consumed) != RequestParser::Status::kDone) return false;
  if (!parser.body_done()) return false;  // a body: Beast parses it as before
  // Leading empty lines are skipped by the parser (RFC 9112 2.2) before
  // Beast ever sees the head, on either path.
  std::string_view head = std::string_view(bytes).substr(0, consumed);
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);
  const BeastHead b = ParseWithBeast(head);
  EXPECT_TRUE(b.ok) << "taken without Beast, but Beast rejects:\n" << bytes;
  EXPECT_FALSE(b.has_body) << bytes;
  if (!b.ok || b.has_body) return true;
  const Request& r = parser.request();
  EXPECT_EQ(r.method, b.method) << bytes;
  EXPECT_EQ(r.target, b.target) << bytes;
  EXPECT_EQ(static_cast<int>(r.version), b.version) << bytes;
  EXPECT_EQ(r.keep_alive, b.keep_alive) << bytes;
  EXPECT_EQ(r.headers.size(), b.fields.size()) << bytes;
  for (std::size_t i = 0; i < b.fields.size() && i < r.headers.size(); ++i) {
    EXPECT_EQ(r.headers[i].name, b.fields[i].first) << bytes;
    EXPECT_EQ(r.headers[i].value, b.fields[i].second) << bytes;
  }
  return true;
}

TEST(RequestFastPath, BodylessRequestsAgreeWithBeast) {
  for (const char* r : {
           "GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Upgrade\r\nUpgrade: x\r\n\r\n",
           "GET / HTTP/1.0\r\n\r\n",
           "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
           "HEAD /h HTTP/1.1\r\nHost: t\r\nX-A:  spaced \t\r\nX-B:\r\n\r\n",
           "\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
           "DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n",
           "PURGE /x HTTP/1.1\r\nHost: t\r\n\r\n",
       }) {
    // Every one of these is a whole bodyless head: the fast path must take
    // it (otherwise the comparison below it never ran and proves nothing).
    EXPECT_TRUE(ExpectAgreement(r)) << "not taken by the fast path:\n" << r;
  }
}

TEST(RequestFastPath, AgreesWithBeastOnMutatedRequests) {
  const std::vector<std::string> seeds = {
      "GET /api/v1/profile/get?user_id=6f1c HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
      "User-Agent: wrk\r\nAccept: */*\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: abc\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close, x-hop\r\nX-Hop: 1\r\n\r\n"};
  const std::string alphabet = std::string("\r\n\t :,;-/?#%aZ09\x01\x7f\x80\xff") + '\0';
  std::mt19937 rng(4242);
  int taken = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string d = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % d.size();
      switch (rng() % 3) {
        case 0:
          d[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          d.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          d.erase(pos, 1);
      }
    }
    RequestParser parser(ParserLimits{});
    std::size_t consumed = 0;
    if (parser.ParseHead(d, &consumed) == RequestParser::Status::kDone && parser.body_done()) {
      ++taken;
    }
    ExpectAgreement(d);
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("request fast path: %d of 40000 mutated requests taken\n", taken);
  EXPECT_GT(taken, 1000);
}

}  // namespace
}  // namespace ficus::http
