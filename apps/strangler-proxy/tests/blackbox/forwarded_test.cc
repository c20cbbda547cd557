// Black-box: X-Forwarded-For/-Proto/-Host and Forwarded with trusted hops,
// the same cases against ficus-proxy and nginx (geo + map, the nginx wiki's
// Forwarded recipe, see nginx_front.cc) in one test. The clients connect
// from two loopback addresses: 127.0.0.2 is the trusted hop (a load
// balancer), 127.0.0.1 an ordinary client that must not be able to choose
// the address, scheme or host the backend sees.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "nginx_front.h"
#include "raw_upstream.h"
#include "wire_client.h"

namespace ficus::proxy::blackbox {
namespace {

constexpr const char* kClient = "127.0.0.1";
constexpr const char* kTrustedHop = "127.0.0.2";

// Each forwarding field as the backend got it: "name=value" per field, in
// order (a field sent twice shows twice).
std::string ForwardingFields(const std::string& head) {
  std::string out;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, next - pos - 2);
    std::string name = line.substr(0, line.find(':'));
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == "x-forwarded-for" || name == "x-forwarded-proto" || name == "x-forwarded-host" ||
        name == "forwarded") {
      auto v = line.substr(line.find(':') + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      out.append(name).append("=").append(v).append("\n");
    }
    pos = next;
  }
  return out;
}

void Echo(RawExchange& x) {
  const std::string body = ForwardingFields(x.request().head);
  x.Send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

struct Case {
  const char* name;
  const char* source;
  std::string fields;    // the client's extra request fields
  std::string expected;  // ForwardingFields() at the backend, sorted as sent
};

std::string Expected(const std::string& xff, const std::string& xfp, const std::string& xfh,
                     const std::string& fwd) {
  return "x-forwarded-for=" + xff + "\nx-forwarded-proto=" + xfp + "\nx-forwarded-host=" + xfh +
         "\nforwarded=" + fwd + "\n";
}

const std::string kSpoof =
    "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: bank.test\r\n"
    "Forwarded: for=6.6.6.6;proto=https\r\n";

std::vector<Case> Cases() {
  const std::string own1 = R"(for=127.0.0.1;host="app";proto=http)";
  const std::string own2 = R"(for=127.0.0.2;host="app";proto=http)";
  return {
      {"client, nothing sent", kClient, "", Expected("127.0.0.1", "http", "app", own1)},
      {"client spoofing every field: replaced", kClient, kSpoof,
       Expected("127.0.0.1", "http", "app", own1)},
      {"client with two X-Forwarded-For fields: replaced", kClient,
       "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n",
       Expected("127.0.0.1", "http", "app", own1)},
      {"trusted hop, nothing sent", kTrustedHop, "", Expected("127.0.0.2", "http", "app", own2)},
      {"trusted hop: appended to", kTrustedHop, kSpoof,
       Expected("6.6.6.6, 127.0.0.2", "https", "bank.test", "for=6.6.6.6;proto=https, " + own2)},
      {"trusted hop, two X-Forwarded-For fields: one list", kTrustedHop,
       "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n",
       Expected("1.1.1.1, 2.2.2.2, 127.0.0.2", "http", "app", own2)},
      {"trusted hop, invalid Forwarded: replaced", kTrustedHop, "Forwarded: for=1.1.1.1 junk\r\n",
       Expected("127.0.0.2", "http", "app", own2)},
      {"trusted hop, quoted Forwarded with a comma: appended to", kTrustedHop,
       "Forwarded: for=\"[2001:db8::1]:80\";by=\"a,b\"\r\n",
       Expected("127.0.0.2", "http", "app", R"(for="[2001:db8::1]:80";by="a,b", )" + own2)},
  };
}

TEST(Forwarded, TrustedHopsAppendOthersAreReplacedSameAsNginx) {
  if (!NginxFront::Available()) GTEST_SKIP() << "no /usr/sbin/nginx";
  RawUpstream up(Echo);
  Stack s;
  s.StartProxy(R"(
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0}
workers: 1
access_log: "off"
forwarded: {trusted: [127.0.0.2/32], x_forwarded: true, forwarded: true}
backends:
  legacy: {url: "http://127.0.0.1:)" +
               std::to_string(up.port()) + R"("}
routes: []
)");
  NginxOptions o;
  o.forwarded_trusted = "127.0.0.2/32";
  NginxFront nginx(s.dir(), up.port(), o);
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::string got[2];
    const uint16_t ports[2] = {s.port(), nginx.port()};
    for (int i = 0; i < 2; ++i) {
      WireClient client(ports[i], c.source);
      ASSERT_TRUE(client.connected()) << "connect from " << c.source;
      client.Send("GET /f HTTP/1.1\r\nHost: app\r\n" + c.fields + "\r\n");
      const auto a = client.Read();
      ASSERT_EQ(a.status, 200) << (i ? "nginx " : "ficus ") << a.Describe();
      got[i] = a.body;
    }
    EXPECT_EQ(got[0], c.expected) << "ficus-proxy";
    EXPECT_EQ(got[1], c.expected) << "nginx (the reference)";
  }
}

}  // namespace
}  // namespace ficus::proxy::blackbox
