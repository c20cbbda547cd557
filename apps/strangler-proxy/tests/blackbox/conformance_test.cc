// The pass-through conformance suite: each case is a scripted upstream
// answer (exact bytes, raw_upstream.h) and a client exchange, run against
// ficus-proxy AND against nginx (the reference front door, nginx_front.h)
// in the same test, so each case shows the reference's behaviour next to
// ours. A case's expectations hold for both unless the case says where and
// why ficus deliberately differs.
//
// One upstream, one ficus-proxy and one nginx serve the whole suite; the
// upstream picks the case's script from the request path (/c/<case>/...).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "nginx_front.h"
#include "raw_upstream.h"
#include "wire_client.h"

namespace ficus::proxy::blackbox {
namespace {

using namespace std::chrono_literals;

struct Front {
  const char* name;
  uint16_t port;
  bool nginx;
};

struct Case {
  std::string name;
  std::function<void(RawExchange&)> upstream;
  // The default client side: send `request` ("{P}" is the case's path),
  // read one answer (HEAD when `head`), then `check`.
  std::string request;
  bool head = false;
  std::function<void(const WireAnswer&, const Front&, WireClient&)> check;
  // Or a client side of its own (several requests, connections, timing).
  std::function<void(const Front&, const std::string& path)> run;
};

std::string Get(const std::string& path_suffix = "") {
  return "GET {P}" + path_suffix + " HTTP/1.1\r\nHost: app\r\n\r\n";
}

// "HTTP/1.1 200 OK" + fields + Content-Length + body.
std::string Answer(std::string_view status_line, std::string_view fields, std::string_view body) {
  return std::string(status_line) + "\r\n" + std::string(fields) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string Chunk(std::string_view s) {
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", s.size());
  return size + std::string(s) + "\r\n";
}

std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1021) % 26);
  return s;
}

// The echo answer most cases use: the body is the request target.
void EchoTarget(RawExchange& x) {
  x.Send(Answer("HTTP/1.1 200 OK", "Content-Type: text/plain\r\n", x.request().target));
}

std::string Expand(std::string s, const std::string& path) {
  for (std::size_t pos = 0; (pos = s.find("{P}", pos)) != std::string::npos;) {
    s.replace(pos, 3, path);
    pos += path.size();
  }
  return s;
}

std::vector<Case>& Cases();

// ---- the cases

void StatusCase(std::vector<Case>& v, const std::string& name, const std::string& line, int status,
                const std::string& reason = "") {
  v.push_back({name,
               [line](RawExchange& x) {
                 x.Send(Answer(line, "Content-Type: application/json\r\n", R"({"ret":1})"));
               },
               Get(),
               false,
               [status, reason](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, status) << a.Describe();
                 EXPECT_TRUE(a.complete) << a.Describe();
                 EXPECT_EQ(a.body, R"({"ret":1})");
                 if (!reason.empty()) {
                   EXPECT_EQ(a.reason, reason);
                 }
               },
               {}});
}

void InterimCase(std::vector<Case>& v, const std::string& name, const std::string& interim,
                 int gap_ms) {
  v.push_back({name,
               [interim, gap_ms](RawExchange& x) {
                 x.Send(interim);
                 if (gap_ms) RawExchange::SleepMs(gap_ms);
                 EchoTarget(x);
               },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 // nginx 1.22 (Debian bookworm) has no support for interim
                 // answers from an upstream: it relays the 1xx as the answer
                 // and the connection then breaks (the next request gets
                 // nothing). ficus drops them and keeps each exchange whole.
                 if (f.nginx) return;
                 // In turn on one connection, then a second connection: each
                 // answer is the request's own, never the previous one's.
                 WireClient c(f.port);
                 for (const char* who : {"/one", "/two"}) {
                   c.Send(Expand(Get(who), path));
                   auto a = c.Read();
                   EXPECT_EQ(a.status, 200) << a.Describe();
                   EXPECT_EQ(a.body, path + who);
                 }
                 WireClient c2(f.port);
                 c2.Send(Expand(Get("/three"), path));
                 auto a = c2.Read();
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_EQ(a.body, path + "/three");
               }});
}

// A second request on the same client connection must get its own answer
// (nothing of the first answer's framing leaked).
void ExpectFollowUpWorks(WireClient& c, const std::string& path) {
  c.Send("GET " + path + "/next HTTP/1.1\r\nHost: app\r\n\r\n");
  auto b = c.Read();
  EXPECT_EQ(b.status, 200) << b.Describe();
  EXPECT_EQ(b.body, path + "/next");
}

void TargetCase(std::vector<Case>& v, const std::string& name, const std::string& suffix,
                bool nginx_differs = false) {
  v.push_back({name,
               EchoTarget,
               Get(suffix),
               false,
               [suffix, nginx_differs, name](const WireAnswer& a, const Front& f, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 if (f.nginx && nginx_differs) return;
                 EXPECT_EQ(a.body, "/c/" + name + suffix) << "the target must arrive byte for byte";
               },
               {}});
}

std::vector<Case> MakeCases() {
  std::vector<Case> v;
  // -- status lines
  StatusCase(v, "Status200", "HTTP/1.1 200 OK", 200, "OK");
  StatusCase(v, "StatusNoReason422", "HTTP/1.1 422", 422);
  StatusCase(v, "StatusNoReason409", "HTTP/1.1 409", 409);
  StatusCase(v, "StatusEmptyReason404", "HTTP/1.1 404 ", 404);
  StatusCase(v, "StatusCustomReason", "HTTP/1.1 200 Fine Thanks", 200, "Fine Thanks");
  StatusCase(v, "StatusCustomReason500", "HTTP/1.1 500 Database Exploded", 500,
             "Database Exploded");
  StatusCase(v, "StatusUnknown299", "HTTP/1.1 299 Whatever", 299, "Whatever");
  StatusCase(v, "StatusUnknown599NoReason", "HTTP/1.1 599", 599);
  StatusCase(v, "StatusFromHttp10Upstream", "HTTP/1.0 200 OK", 200);
  v.push_back({"Http10UpstreamCloseDelimited",
               [](RawExchange& x) {
                 x.Send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "all of it");
               },
               {}});
  // -- LF-only line endings from the upstream: accepted as nginx does
  // (RFC 9112 2.2: a recipient MAY take a bare LF as a line terminator);
  // what clients send stays strict (hardening_test.cc).
  auto lf_case = [&v](const std::string& name, const std::string& raw, int status,
                      const std::string& reason, const std::string& body) {
    v.push_back({name,
                 [raw](RawExchange& x) {
                   if (x.request().target.ends_with("/next")) return EchoTarget(x);
                   x.Send(raw);
                 },
                 Get(),
                 false,
                 [status, reason, body, name](const WireAnswer& a, const Front&, WireClient& c) {
                   EXPECT_EQ(a.status, status) << a.Describe();
                   // No reason sent: both fronts send the standard phrase.
                   if (!reason.empty()) {
                     EXPECT_EQ(a.reason, reason);
                   }
                   EXPECT_TRUE(a.complete) << a.Describe();
                   EXPECT_EQ(a.body, body);
                   EXPECT_EQ(a.Field("X-Legacy").value_or(""), "yes") << a.Describe();
                   ExpectFollowUpWorks(c, "/c/" + name);  // the pooled connection is sound
                 },
                 {}});
  };
  lf_case("LfOnlyHead", "HTTP/1.1 200 OK\nX-Legacy: yes\nContent-Length: 2\n\nok", 200, "OK", "ok");
  lf_case("LfOnlyHeadNoReason", "HTTP/1.1 422\nX-Legacy: yes\nContent-Length: 2\n\nno", 422, "",
          "no");
  lf_case("LfMixedLineEndings", "HTTP/1.1 200 OK\r\nX-Legacy: yes\nContent-Length: 2\r\n\nok", 200,
          "OK", "ok");
  lf_case(
      "LfOnlyHeadChunkedBody",
      "HTTP/1.1 200 OK\nX-Legacy: yes\nTransfer-Encoding: chunked\n\n" + Chunk("ok") + "0\r\n\r\n",
      200, "OK", "ok");
  // -- framing
  v.push_back({"ContentLengthZero",
               [](RawExchange& x) {
                 if (x.request().target.ends_with("/next")) return EchoTarget(x);
                 x.Send(Answer("HTTP/1.1 200 OK", "", ""));
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front& f, WireClient& c) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "");
                 ExpectFollowUpWorks(c, "/c/ContentLengthZero");
                 (void)f;
               },
               {}});
  auto chunked = [&v](const std::string& name, const std::string& chunks, const std::string& body) {
    v.push_back({name,
                 [chunks](RawExchange& x) {
                   if (x.request().target.ends_with("/next")) return EchoTarget(x);
                   x.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
                 },
                 Get(),
                 false,
                 [body, name](const WireAnswer& a, const Front&, WireClient& c) {
                   EXPECT_EQ(a.status, 200) << a.Describe();
                   EXPECT_TRUE(a.complete) << a.Describe();
                   EXPECT_EQ(a.body, body);
                   EXPECT_FALSE(a.Field("X-Checksum")) << "trailer merged into the header section";
                   ExpectFollowUpWorks(c, "/c/" + name);
                 },
                 {}});
  };
  chunked("Chunked", Chunk("hello ") + Chunk("chunked ") + Chunk("world") + "0\r\n\r\n",
          "hello chunked world");
  chunked("ChunkedExtensions", "5;name=value\r\nhello\r\n1;x\r\n!\r\n0;end=1\r\n\r\n", "hello!");
  chunked("ChunkedTrailersNotMerged", Chunk("body") + "0\r\nX-Checksum: abc\r\n\r\n", "body");
  {
    std::string many, body;
    for (int i = 0; i < 300; ++i) {
      const std::string s(1, static_cast<char>('a' + i % 26));
      many += Chunk(s);
      body += s;
    }
    chunked("ChunkedManySmall", many + "0\r\n\r\n", body);
  }
  v.push_back({"CloseDelimitedHttp11",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "until the end");
               },
               {}});
  v.push_back({"Http10ClientGetsNoChunkedFraming",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk("abc") +
                        Chunk("def") + "0\r\n\r\n");
               },
               "GET {P} HTTP/1.0\r\nHost: app\r\n\r\n",
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_FALSE(a.chunked) << "HTTP/1.0 has no chunked coding";
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "abcdef");
               },
               {}});
  v.push_back({"Http10ClientContentLength",
               EchoTarget,
               "GET {P} HTTP/1.0\r\nHost: app\r\n\r\n",
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "/c/Http10ClientContentLength");
               },
               {}});
  const std::string big = Pattern(8u << 20);
  v.push_back({"LargeContentLength8MiB",
               [big](RawExchange& x) { x.Send(Answer("HTTP/1.1 200 OK", "", big)); },
               Get(),
               false,
               [big](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_TRUE(a.body == big) << "body differs, " << a.body.size() << " bytes";
               },
               {}});
  v.push_back({"LargeChunked8MiB",
               [big](RawExchange& x) {
                 std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                 for (std::size_t i = 0; i < big.size(); i += 100000) {
                   out += Chunk(std::string_view(big).substr(i, 100000));
                 }
                 x.Send(out + "0\r\n\r\n");
               },
               Get(),
               false,
               [big](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_TRUE(a.body == big) << "body differs, " << a.body.size() << " bytes";
               },
               {}});
  v.push_back({"ConflictingContentLengthIs502",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front& f, WireClient&) {
                 // nginx 1.22 takes one of the two lengths and answers 200;
                 // ficus refuses an ambiguous framing (RFC 9112 6.3: an
                 // unrecoverable error) with 502.
                 if (f.nginx) return;
                 EXPECT_EQ(a.status, 502) << a.Describe();
               },
               {}});
  // -- interim answers (the desync cases)
  InterimCase(v, "Interim103Apart", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", 30);
  InterimCase(v, "Interim103Together", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n", 0);
  InterimCase(v, "Interim100Apart", "HTTP/1.1 100 Continue\r\n\r\n", 30);
  InterimCase(v, "Interim102Twice",
              "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n", 30);
  InterimCase(v, "Interim102NoReason", "HTTP/1.1 102\r\n\r\n", 30);
  // -- HEAD, 204, 304
  v.push_back({"HeadKeepsContentLength",
               [](RawExchange& x) {
                 if (x.request().method != "HEAD") return EchoTarget(x);
                 x.Send(
                     "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 1234\r\n\r\n");
               },
               "HEAD {P} HTTP/1.1\r\nHost: app\r\n\r\n",
               true,
               [](const WireAnswer& a, const Front&, WireClient& c) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_EQ(a.Field("Content-Length").value_or("none"), "1234");
                 ExpectFollowUpWorks(c, "/c/HeadKeepsContentLength");
               },
               {}});
  v.push_back({"HeadOfChunkedAnswer",
               [](RawExchange& x) {
                 if (x.request().method != "HEAD") return EchoTarget(x);
                 x.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
               },
               "HEAD {P} HTTP/1.1\r\nHost: app\r\n\r\n",
               true,
               [](const WireAnswer& a, const Front&, WireClient& c) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 ExpectFollowUpWorks(c, "/c/HeadOfChunkedAnswer");
               },
               {}});
  v.push_back({"Status204",
               [](RawExchange& x) {
                 if (x.request().target.ends_with("/next")) return EchoTarget(x);
                 x.Send("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n");
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient& c) {
                 EXPECT_EQ(a.status, 204) << a.Describe();
                 EXPECT_FALSE(a.Field("Content-Length")) << "204 carries no Content-Length";
                 EXPECT_EQ(a.Field("X-A").value_or(""), "1");
                 ExpectFollowUpWorks(c, "/c/Status204");
               },
               {}});
  v.push_back(
      {"Status304KeepsValidators",
       [](RawExchange& x) {
         if (x.request().target.ends_with("/next")) return EchoTarget(x);
         x.Send("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\n\r\n");
       },
       "GET {P} HTTP/1.1\r\nHost: app\r\nIf-None-Match: \"v1\"\r\n\r\n",
       false,
       [](const WireAnswer& a, const Front&, WireClient& c) {
         EXPECT_EQ(a.status, 304) << a.Describe();
         EXPECT_EQ(a.Field("ETag").value_or(""), "\"v1\"");
         EXPECT_EQ(a.body, "");
         ExpectFollowUpWorks(c, "/c/Status304KeepsValidators");
       },
       {}});
  // -- fields
  v.push_back({"FieldNameCaseKept",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 200 OK", "X-CuStOm-Field: Value Kept\r\n", "x"));
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 bool found = false;
                 for (const auto& [n, val] : a.fields) {
                   if (n == "X-CuStOm-Field" && val == "Value Kept") found = true;
                 }
                 EXPECT_TRUE(found) << a.Describe();
               },
               {}});
  v.push_back({"TwoSetCookiesStayTwo",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 200 OK",
                               "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\n", "x"));
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.Count("Set-Cookie"), 2) << a.Describe();
               },
               {}});
  v.push_back(
      {"HopByHopFieldsRemoved",
       [](RawExchange& x) {
         x.Send(Answer("HTTP/1.1 200 OK",
                       "Connection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-End: 2\r\n",
                       "x"));
       },
       Get(),
       false,
       [](const WireAnswer& a, const Front& f, WireClient&) {
         EXPECT_EQ(a.status, 200) << a.Describe();
         EXPECT_FALSE(a.Field("Keep-Alive")) << a.Describe();
         EXPECT_EQ(a.Field("X-End").value_or(""), "2");
         // nginx does not strip fields the upstream's Connection
         // names (RFC 9110 7.6.1 says a proxy must): ficus does.
         if (!f.nginx) {
           EXPECT_FALSE(a.Field("X-Hop")) << a.Describe();
         }
       },
       {}});
  v.push_back({"LongFieldValue6000",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 200 OK", "X-Long: " + Pattern(6000) + "\r\n", "x"));
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front& f, WireClient&) {
                 // nginx: "upstream sent too big header" beyond
                 // proxy_buffer_size (4 KiB by default) -> 502. ficus reads
                 // answer heads up to 64 KiB.
                 if (f.nginx) {
                   EXPECT_EQ(a.status, 502) << a.Describe();
                   return;
                 }
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_EQ(a.Field("X-Long").value_or(""), Pattern(6000));
               },
               {}});
  v.push_back({"ServerAndDateFromUpstream",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 200 OK",
                               "Server: legacy-php\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n",
                               "x"));
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front& f, WireClient&) {
                 EXPECT_EQ(a.Count("Server"), 1) << a.Describe();
                 // nginx hides the upstream's Server and Date and sends its
                 // own; ficus is transparent and passes them through.
                 if (!f.nginx) {
                   EXPECT_EQ(a.Field("Server").value_or(""), "legacy-php");
                   EXPECT_EQ(a.Field("Date").value_or(""), "Tue, 01 Dec 2026 10:00:00 GMT");
                 }
               },
               {}});
  // -- slow and streamed answers: the first bytes reach the client long
  // before the last are sent.
  v.push_back({"SlowContentLengthBodyStreams",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n");
                 for (int i = 0; i < 5; ++i) {
                   x.Send("part" + std::to_string(i));
                   RawExchange::SleepMs(150);
                 }
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete);
                 EXPECT_EQ(a.body, "part0part1part2part3part4");
                 EXPECT_LT(a.first_body_ms, 400) << "first body byte only after " << a.first_body_ms
                                                 << " ms (total " << a.total_ms << " ms)";
               },
               {}});
  v.push_back(
      {"ServerSentEvents",
       [](RawExchange& x) {
         x.Send(
             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: "
             "no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
         for (int i = 0; i < 4; ++i) {
           x.Send(Chunk("data: event " + std::to_string(i) + "\n\n"));
           RawExchange::SleepMs(150);
         }
         x.Send("0\r\n\r\n");
       },
       Get(),
       false,
       [](const WireAnswer& a, const Front&, WireClient&) {
         EXPECT_EQ(a.status, 200) << a.Describe();
         EXPECT_TRUE(a.complete);
         EXPECT_EQ(a.body, "data: event 0\n\ndata: event 1\n\ndata: event 2\n\ndata: event 3\n\n");
         EXPECT_LT(a.first_body_ms, 400) << "first event after " << a.first_body_ms << " ms";
         EXPECT_EQ(a.Field("Content-Type").value_or(""), "text/event-stream");
       },
       {}});
  v.push_back({"CloseDelimitedProgressStreams",
               [](RawExchange& x) {
                 x.Send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
                 for (int i = 0; i < 4; ++i) {
                   x.Send("step " + std::to_string(i) + "\n");
                   RawExchange::SleepMs(150);
                 }
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_TRUE(a.complete) << a.Describe();
                 EXPECT_EQ(a.body, "step 0\nstep 1\nstep 2\nstep 3\n");
                 EXPECT_LT(a.first_body_ms, 400) << "first step after " << a.first_body_ms << " ms";
               },
               {}});
  v.push_back({"SlowFirstByteWithinTimeout",
               [](RawExchange& x) {
                 RawExchange::SleepMs(600);
                 EchoTarget(x);
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
               },
               {}});
  // -- cut, stalled and broken answers: never a complete-looking body
  v.push_back({"TruncatedContentLength",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + Pattern(40));
                 RawExchange::SleepMs(50);
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_FALSE(a.complete && a.status == 200 && a.body.size() == 40)
                     << "a cut body looks complete: " << a.Describe();
                 if (a.status == 200) {
                   EXPECT_FALSE(a.complete) << a.Describe();
                 }
               },
               {}});
  v.push_back({"TruncatedChunked",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk("partial"));
                 RawExchange::SleepMs(50);
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 if (a.status == 200) {
                   EXPECT_FALSE(a.complete) << a.Describe();
                 }
               },
               {}});
  v.push_back({"TruncatedCloseDelimitedByReset",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + Pattern(30));
                 RawExchange::SleepMs(50);
                 x.Reset();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 // A reset upstream: the client must not see a clean end.
                 if (a.status == 200) {
                   EXPECT_FALSE(a.complete) << a.Describe();
                 }
               },
               {}});
  v.push_back({"StalledBodyIsAborted",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + Pattern(10));
                 RawExchange::SleepMs(4000);
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_FALSE(a.complete) << a.Describe();
                 EXPECT_LT(a.total_ms, 3500) << "the stall was not cut at the idle timeout";
               },
               {}});
  v.push_back({"NoAnswerIs504",
               [](RawExchange& x) {
                 RawExchange::SleepMs(4000);
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 504) << a.Describe();
                 EXPECT_LT(a.total_ms, 3500);
               },
               {}});
  v.push_back({"ResetBeforeAnswerIs502",
               [](RawExchange& x) { x.Reset(); },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 502) << a.Describe();
               },
               {}});
  v.push_back({"CloseWithoutAnswerIs502",
               [](RawExchange& x) { x.Close(); },
               Get(),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 502) << a.Describe();
               },
               {}});
  v.push_back({"GarbageAnswerIs502",
               [](RawExchange& x) {
                 x.Send("NOT HTTP AT ALL\r\n\r\n");
                 x.Close();
               },
               Get(),
               false,
               [](const WireAnswer& a, const Front& f, WireClient&) {
                 // nginx relays an answer without a status line as HTTP/0.9
                 // (the raw bytes, no head); ficus answers 502.
                 if (f.nginx) return;
                 EXPECT_EQ(a.status, 502) << a.Describe();
               },
               {}});
  // -- request targets, byte for byte
  TargetCase(v, "TargetPercentEncoded", "/a%2Fb%20c?q=%41&x=1+2");
  TargetCase(v, "TargetDoubleSlashes", "//x//y/");
  TargetCase(v, "TargetQueryOddChars", "?a=b&c&d=%zz&e=[1]");
  TargetCase(v, "TargetUtf8Escaped", "/%E4%BD%A0%E5%A5%BD?n=%F0%9F%98%80");
  // -- pipelining and keep-alive
  v.push_back({"PipelinedTwoRequests",
               EchoTarget,
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 WireClient c(f.port);
                 c.Send(Expand(Get("/1") + Get("/2"), path));
                 auto a = c.Read();
                 auto b = c.Read();
                 EXPECT_EQ(a.body, path + "/1") << a.Describe();
                 EXPECT_EQ(b.body, path + "/2") << b.Describe();
               }});
  v.push_back({"PipelinedChunkedAnswers",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        Chunk(x.request().target) + "0\r\n\r\n");
               },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 WireClient c(f.port);
                 c.Send(Expand(Get("/1") + Get("/2") + Get("/3"), path));
                 for (const char* who : {"/1", "/2", "/3"}) {
                   auto a = c.Read();
                   EXPECT_TRUE(a.complete) << a.Describe();
                   EXPECT_EQ(a.body, path + who) << a.Describe();
                 }
               }});
  v.push_back({"KeepAliveAfterUpstreamConnectionClose",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 200 OK", "Connection: close\r\n", x.request().target));
                 x.Close();
               },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 WireClient c(f.port);
                 for (const char* who : {"/1", "/2", "/3"}) {
                   c.Send(Expand(Get(who), path));
                   auto a = c.Read();
                   EXPECT_EQ(a.status, 200) << a.Describe();
                   EXPECT_EQ(a.body, path + who);
                 }
               }});
  v.push_back({"KeepAliveAfterUpstreamIdleClose",
               [](RawExchange& x) {
                 EchoTarget(x);
                 RawExchange::SleepMs(30);
                 x.Close();  // closes the idle keep-alive connection silently
               },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 WireClient c(f.port);
                 for (const char* who : {"/1", "/2", "/3"}) {
                   c.Send(Expand(Get(who), path));
                   auto a = c.Read();
                   EXPECT_EQ(a.status, 200) << a.Describe();
                   EXPECT_EQ(a.body, path + who);
                   std::this_thread::sleep_for(150ms);
                 }
               }});
  v.push_back({"ConcurrentClientsWithInterims",
               [](RawExchange& x) {
                 x.Send("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
                 RawExchange::SleepMs(10);
                 EchoTarget(x);
               },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 if (f.nginx) return;  // nginx 1.22 and 1xx: see the Interim* cases
                 std::atomic<int> wrong{0};
                 std::vector<std::thread> ts;
                 ts.reserve(6);
                 for (int t = 0; t < 6; ++t) {
                   ts.emplace_back([&, t] {
                     WireClient c(f.port);
                     for (int i = 0; i < 4; ++i) {
                       const std::string who = "/" + std::to_string(t) + "-" + std::to_string(i);
                       c.Send(Expand(Get(who), path));
                       auto a = c.Read();
                       if (a.status != 200 || a.body != path + who) wrong.fetch_add(1);
                     }
                   });
                 }
                 for (auto& t : ts) t.join();
                 EXPECT_EQ(wrong.load(), 0) << "answers went to the wrong client";
               }});
  // -- request bodies
  v.push_back({"PostBodyReachesUpstream",
               [](RawExchange& x) {
                 x.Send(Answer("HTTP/1.1 201 Created", "",
                               std::to_string(x.request().body.size()) + ":" +
                                   x.request().body.substr(0, 8)));
               },
               "POST {P} HTTP/1.1\r\nHost: app\r\nContent-Type: text/plain\r\nContent-Length: "
               "1000\r\n\r\n" +
                   Pattern(1000),
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 201) << a.Describe();
                 EXPECT_EQ(a.body, "1000:" + Pattern(8));
               },
               {}});
  v.push_back({"PostChunkedBody",
               [](RawExchange& x) { x.Send(Answer("HTTP/1.1 200 OK", "", x.request().body)); },
               "POST {P} HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   Chunk("first,") + Chunk("second") + "0\r\n\r\n",
               false,
               [](const WireAnswer& a, const Front&, WireClient&) {
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_EQ(a.body, "first,second");
               },
               {}});
  v.push_back({"Expect100Continue",
               [](RawExchange& x) { x.Send(Answer("HTTP/1.1 200 OK", "", x.request().body)); },
               "",
               false,
               {},
               [](const Front& f, const std::string& path) {
                 WireClient c(f.port);
                 c.Send("POST " + path +
                        " HTTP/1.1\r\nHost: app\r\nExpect: 100-continue\r\nContent-Length: "
                        "11\r\n\r\n");
                 // A client waits for the 100 (or gives up after a while and
                 // sends anyway); either way the body must arrive.
                 const std::string got = c.ReadRaw(1000ms);
                 EXPECT_NE(got.find("100"), std::string::npos) << "no 100 Continue: " << got;
                 c.Send("hello world");
                 auto a = c.Read();
                 EXPECT_EQ(a.status, 200) << a.Describe();
                 EXPECT_EQ(a.body, "hello world");
               }});
  // -- upgrade tunnels
  v.push_back(
      {"WebSocketEcho",
       [](RawExchange& x) {
         if (x.request().Header("Upgrade") != "websocket") {
           x.Send(Answer("HTTP/1.1 426 Upgrade Required", "", "no upgrade arrived"));
           return;
         }
         x.Send(
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
         for (int i = 0; i < 3; ++i) {
           const std::string got = x.ReadSome(3000ms);
           if (got.empty()) break;
           x.Send("echo:" + got);
         }
         x.Close();
       },
       "",
       false,
       {},
       [](const Front& f, const std::string& path) {
         WireClient c(f.port);
         c.Send("GET " + path +
                " HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
         auto a = c.Read();
         ASSERT_EQ(a.status, 101) << a.Describe();
         EXPECT_EQ(a.Field("Upgrade").value_or(""), "websocket");
         EXPECT_EQ(a.Field("Sec-WebSocket-Accept").value_or(""), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
         for (const char* msg : {"frame-one", "frame-two"}) {
           c.Send(msg);
           std::string got;
           const auto until = std::chrono::steady_clock::now() + 3s;
           while (got.size() < 5 + std::strlen(msg) && std::chrono::steady_clock::now() < until) {
             got += c.ReadRaw(200ms);
           }
           EXPECT_EQ(got, std::string("echo:") + msg);
         }
       }});
  return v;
}

std::vector<Case>& Cases() {
  static std::vector<Case> cases = MakeCases();
  return cases;
}

// Upstream dispatch: /c/<case>/... runs that case's script.
void Dispatch(RawExchange& x) {
  const std::string& t = x.request().target;
  if (t.rfind("/c/", 0) == 0) {
    const auto end = t.find_first_of("/?", 3);
    const std::string name = t.substr(3, end == std::string::npos ? end : end - 3);
    for (const auto& c : Cases()) {
      if (c.name == name) return c.upstream(x);
    }
  }
  x.Send(Answer("HTTP/1.1 404 Not Found", "", "no such case"));
}

std::string ProxyYaml(uint16_t upstream_port) {
  return R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
limits: {max_body_bytes: 67108864}
backends:
  legacy:
    url: http://127.0.0.1:)" +
         std::to_string(upstream_port) + R"(
    connect_timeout_ms: 1000
    response_timeout_ms: 1500
    idle_timeout_ms: 1500
routes: []
)";
}

struct Env {
  RawUpstream upstream{Dispatch};
  Stack stack;
  std::unique_ptr<NginxFront> nginx;
  Env() {
    stack.StartProxy(ProxyYaml(upstream.port()));
    NginxOptions o;
    o.read_timeout_ms = 1500;
    nginx = std::make_unique<NginxFront>(stack.dir(), upstream.port(), o);
  }
};

class Conformance : public ::testing::TestWithParam<std::size_t> {
 protected:
  static void SetUpTestSuite() { env_ = new Env(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  static Env* env_;
};
Env* Conformance::env_ = nullptr;

TEST_P(Conformance, SameAsNginxOrDocumented) {
  const Case& c = Cases()[GetParam()];
  const std::string path = "/c/" + c.name;
  for (const Front f :
       {Front{"ficus", env_->stack.port(), false}, Front{"nginx", env_->nginx->port(), true}}) {
    SCOPED_TRACE(f.name);
    if (c.run) {
      c.run(f, path);
      continue;
    }
    WireClient client(f.port);
    ASSERT_TRUE(client.connected());
    client.Send(Expand(c.request, path));
    const auto a = client.Read(c.head, 10s);
    c.check(a, f, client);
  }
}

std::vector<std::size_t> Indexes() {
  std::vector<std::size_t> v(Cases().size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

INSTANTIATE_TEST_SUITE_P(PassThrough, Conformance, ::testing::ValuesIn(Indexes()),
                         [](const auto& param_info) { return Cases()[param_info.param].name; });

TEST(ConformanceSuite, HasAtLeastFiftyCases) {
  EXPECT_GE(Cases().size(), 50u);
}

}  // namespace
}  // namespace ficus::proxy::blackbox
