// The fast response-head parser against Beast's: whatever the fast path
// accepts, Beast accepts with the same status, fields, length and
// keep-alive; the unusual shapes are declined, never misread.
#include "response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <random>
#include <string>
#include <vector>

namespace ficus::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Beast's view of a complete response: what the proxy would forward.
struct BeastView {
  bool ok = false;
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // end-to-end only
  uint64_t length = 0;
  bool keep_alive = false;
  std::size_t used = 0;
};

class Collect final : public bhttp::basic_parser<false> {
 public:
  explicit Collect(BeastView* v) : v_(v) {}

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    v_->status = static_cast<unsigned>(code);
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    // The proxy's drop rule (shared), applied to Beast's reading of the field.
    const http::FieldRole role = http::FramingRole(name);
    if (role == http::FieldRole::kConnection) {
      bool other = false;
      for (auto tok : bhttp::token_list{value}) {
        if (!beast::iequals(tok, "keep-alive") && !beast::iequals(tok, "close")) other = true;
      }
      if (!other) return;
    } else if (role != http::FieldRole::kEndToEnd) {
      return;
    }
    v_->fields.emplace_back(std::string(name), std::string(value));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    v_->length = length.value_or(0);
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}
  BeastView* v_;
};

BeastView ParseWithBeast(std::string_view data) {
  BeastView v;
  Collect p(&v);
  p.eager(true);
  p.header_limit(64 * 1024);
  beast::error_code ec;
  v.used = p.put(boost::asio::buffer(data.data(), data.size()), ec);
  v.ok = !ec && p.is_done();
  v.keep_alive = p.keep_alive();
  return v;
}

struct FastView {
  HeadParse st;
  SimpleResponseHead h;
  http::Headers headers;
};

FastView ParseFast(std::string_view data) {
  FastView v;
  v.st = ParseSimpleResponseHead(data, std::size_t{64} * 1024, v.h, v.headers);
  return v;
}

// The property: a kOk answer means Beast agrees on everything.
void ExpectAgreement(const std::string& data) {
  const FastView f = ParseFast(data);
  if (f.st != HeadParse::kOk) {
    EXPECT_EQ(f.headers.size(), 0u) << "a declined head adds no field";
    return;
  }
  const std::size_t total = f.h.head_bytes + f.h.content_length;
  ASSERT_LE(total, data.size()) << data;  // the cases below carry their whole body
  const BeastView b = ParseWithBeast(data.substr(0, total));
  ASSERT_TRUE(b.ok) << "fast path accepted what Beast rejects:\n" << data;
  EXPECT_EQ(b.used, total) << data;
  EXPECT_EQ(b.status, f.h.status) << data;
  EXPECT_EQ(b.length, f.h.content_length) << data;
  EXPECT_EQ(b.keep_alive, f.h.keep_alive) << data;
  ASSERT_EQ(b.fields.size(), f.headers.size()) << data;
  for (std::size_t i = 0; i < b.fields.size(); ++i) {
    EXPECT_EQ(b.fields[i].first, f.headers[i].name) << data;
    EXPECT_EQ(b.fields[i].second, f.headers[i].value) << data;
  }
}

const std::string kNginx =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 09:48:16 GMT\r\n"
    "Content-Type: application/json\r\nContent-Length: 32\r\nConnection: keep-alive\r\n\r\n"
    "{\"ret\":200,\"data\":null,\"msg\":\"\"}";

TEST(ResponseHead, ParsesTheCommonAnswer) {
  FastView f = ParseFast(kNginx);
  ASSERT_EQ(f.st, HeadParse::kOk);
  EXPECT_EQ(f.h.status, 200u);
  EXPECT_EQ(f.h.content_length, 32u);
  EXPECT_TRUE(f.h.keep_alive);
  EXPECT_FALSE(f.h.connection_lists_fields);
  ASSERT_EQ(f.headers.size(), 3u);  // Server, Date, Content-Type
  EXPECT_EQ(f.headers[2].value, "application/json");
  EXPECT_FALSE(f.headers.MayContainCrLf());
  ExpectAgreement(kNginx);
}

TEST(ResponseHead, ReasonPhraseIsReportedAsSent) {
  for (const auto& [line, reason] :
       std::vector<std::pair<std::string, std::string>>{{"HTTP/1.1 200 OK", "OK"},
                                                        {"HTTP/1.1 299 Fine Thanks", "Fine Thanks"},
                                                        {"HTTP/1.1 422 ", ""}}) {
    const std::string data = line + "\r\nContent-Length: 0\r\n\r\n";
    FastView f = ParseFast(data);
    ASSERT_EQ(f.st, HeadParse::kOk) << line;
    EXPECT_EQ(data.substr(SimpleResponseHead::kReasonPos, f.h.reason_len), reason);
  }
  // No SP after the code: declined here, Beast's path takes it (client.cc).
  EXPECT_EQ(ParseFast("HTTP/1.1 422\r\nContent-Length: 0\r\n\r\n").st, HeadParse::kDecline);
}

TEST(ResponseHead, NeedsMoreUntilTheBlankLine) {
  for (std::size_t n = 0; n < kNginx.find("\r\n\r\n") + 4; ++n) {
    FastView f = ParseFast(kNginx.substr(0, n));
    EXPECT_EQ(f.st, HeadParse::kNeedMore) << n;
    EXPECT_EQ(f.headers.size(), 0u);
  }
}

TEST(ResponseHead, DeclinesEveryUnusualShape) {
  const std::vector<std::string> declined = {
      "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
      "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\na",
      "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\na",
      "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\nclose-delimited",
      "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",  // obs-fold
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",                  // bare LF
      "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",     // bare CR
      "HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x01\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\x7f\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",  // no SP after the code
      "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
  };
  for (const auto& d : declined) {
    FastView f = ParseFast(d);
    EXPECT_EQ(f.st, HeadParse::kDecline) << d;
    EXPECT_EQ(f.headers.size(), 0u) << d;
  }
}

TEST(ResponseHead, ConnectionTokens) {
  FastView close = ParseFast("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(close.st, HeadParse::kOk);
  EXPECT_FALSE(close.h.keep_alive);
  EXPECT_EQ(close.headers.size(), 0u);
  FastView named = ParseFast(
      "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: s\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(named.st, HeadParse::kOk);
  EXPECT_TRUE(named.h.connection_lists_fields);  // the proxy strips X-Secret
  EXPECT_EQ(named.headers.size(), 2u);
  for (const char* d :
       {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: s\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 \r\nX:\r\nY: \t v \t\r\nContent-Length: 0\r\n\r\n"}) {
    ExpectAgreement(d);
  }
}

// Random edits of valid answers: every head the fast path takes, Beast
// takes the same way (the property that keeps this parser honest).
TEST(ResponseHead, AgreesWithBeastOnMutatedAnswers) {
  const std::vector<std::string> seeds = {
      kNginx, "HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: close\r\n"
      "Content-Length: 3\r\n\r\nno!",
      "HTTP/1.1 200 OK\r\nConnection: X-B\r\nX-B: b\r\nContent-Length: 1\r\n\r\nz"};
  const std::string alphabet = std::string("\r\n\t :,;-aZ0910\x01\x7f\x80\xff") + '\0';
  std::mt19937 rng(20261201);
  int accepted = 0;
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
    const FastView f = ParseFast(d);
    if (f.st == HeadParse::kOk && f.h.head_bytes + f.h.content_length <= d.size()) {
      ++accepted;
      ExpectAgreement(d);
      if (::testing::Test::HasFailure()) return;
    }
  }
  std::printf("response head: %d of 40000 mutated answers taken by the fast path\n", accepted);
  EXPECT_GT(accepted, 1000);  // the property was exercised
}

}  // namespace
}  // namespace ficus::http
