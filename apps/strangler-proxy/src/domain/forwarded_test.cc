#include "domain/forwarded.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

ForwardedPolicy Policy(const std::vector<std::string>& cidrs, bool forwarded = true) {
  ForwardedPolicy p;
  for (const auto& c : cidrs) p.trusted.push_back(*ParseCidr(c));
  p.forwarded = forwarded;
  return p;
}

ForwardedRequest Spoofing(std::string_view peer) {
  ForwardedRequest r;
  r.peer_ip = peer;
  r.proto = "http";
  r.host = "app.test:8080";
  r.x_forwarded_for = "6.6.6.6";
  r.x_forwarded_proto = "https";
  r.x_forwarded_host = "bank.test";
  r.forwarded = "for=6.6.6.6;proto=https";
  return r;
}

TEST(ForwardedCidr, ParsesAndRejectsWithTheReason) {
  EXPECT_TRUE(ParseCidr("10.0.0.0/8"));
  EXPECT_EQ(ParseCidr("127.0.0.1")->bits, 32);
  EXPECT_EQ(ParseCidr("::1")->bits, 128);
  EXPECT_FALSE(ParseCidr("fd00::/8")->v4);
  EXPECT_NE(ParseCidr("10.0.0.1/8").error().message.find("host bits"), std::string::npos);
  EXPECT_NE(ParseCidr("10.0.0.0/33").error().message.find("0..32"), std::string::npos);
  EXPECT_NE(ParseCidr("10.0.0.0/").error().message.find("prefix"), std::string::npos);
  EXPECT_NE(ParseCidr("ten/8").error().message.find("IP address"), std::string::npos);
  EXPECT_FALSE(ParseCidr(""));
}

TEST(ForwardedCidr, MembershipByPrefixAndFamily) {
  const auto p = Policy({"10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "127.0.0.2"});
  EXPECT_TRUE(PeerTrusted(p.trusted, "10.255.0.1"));
  EXPECT_FALSE(PeerTrusted(p.trusted, "11.0.0.1"));
  EXPECT_TRUE(PeerTrusted(p.trusted, "192.168.1.200"));
  EXPECT_FALSE(PeerTrusted(p.trusted, "192.168.1.127"));
  EXPECT_TRUE(PeerTrusted(p.trusted, "fd12::1"));
  EXPECT_FALSE(PeerTrusted(p.trusted, "fe80::1"));
  EXPECT_TRUE(PeerTrusted(p.trusted, "127.0.0.2"));
  EXPECT_FALSE(PeerTrusted(p.trusted, "127.0.0.1"));
  EXPECT_FALSE(PeerTrusted(p.trusted, "not-an-ip"));
  EXPECT_FALSE(PeerTrusted({}, "10.0.0.1"));
  EXPECT_TRUE(PeerTrusted(Policy({"0.0.0.0/0"}).trusted, "8.8.8.8"));
}

TEST(Forwarded, AnUntrustedPeerCannotChooseItsAddress) {
  const auto f = DecideForwarded(Policy({"10.0.0.0/8"}), Spoofing("203.0.113.9"));
  EXPECT_FALSE(f.trusted_peer);
  EXPECT_EQ(f.x_forwarded_for, "203.0.113.9");
  EXPECT_EQ(f.x_forwarded_proto, "http");
  EXPECT_EQ(f.x_forwarded_host, "app.test:8080");
  EXPECT_EQ(f.forwarded, R"(for=203.0.113.9;host="app.test:8080";proto=http)");
}

TEST(Forwarded, ATrustedPeerIsAppendedTo) {
  const auto f = DecideForwarded(Policy({"10.0.0.0/8"}), Spoofing("10.1.2.3"));
  EXPECT_TRUE(f.trusted_peer);
  EXPECT_EQ(f.x_forwarded_for, "6.6.6.6, 10.1.2.3");
  EXPECT_EQ(f.x_forwarded_proto, "https");
  EXPECT_EQ(f.x_forwarded_host, "bank.test");
  EXPECT_EQ(f.forwarded,
            R"(for=6.6.6.6;proto=https, for=10.1.2.3;host="app.test:8080";proto=http)");
}

TEST(Forwarded, ATrustedPeerWithoutFieldsGetsOurs) {
  ForwardedRequest r;
  r.peer_ip = "10.1.2.3";
  r.proto = "http";
  r.host = "app";
  const auto f = DecideForwarded(Policy({"10.0.0.0/8"}), r);
  EXPECT_EQ(f.x_forwarded_for, "10.1.2.3");
  EXPECT_EQ(f.x_forwarded_proto, "http");
  EXPECT_EQ(f.x_forwarded_host, "app");
  EXPECT_EQ(f.forwarded, R"(for=10.1.2.3;host="app";proto=http)");
}

TEST(Forwarded, AnInvalidForwardedFromATrustedPeerIsReplaced) {
  auto r = Spoofing("10.1.2.3");
  r.forwarded = "for=1.1.1.1 junk";
  EXPECT_EQ(DecideForwarded(Policy({"10.0.0.0/8"}), r).forwarded,
            R"(for=10.1.2.3;host="app.test:8080";proto=http)");
}

TEST(Forwarded, DisabledFieldsAreDroppedFromUntrustedAndKeptFromTrusted) {
  auto p = Policy({"10.0.0.0/8"}, /*forwarded=*/false);
  p.x_forwarded = false;
  const auto untrusted = DecideForwarded(p, Spoofing("203.0.113.9"));
  EXPECT_EQ(untrusted.x_forwarded_for, "");
  EXPECT_EQ(untrusted.x_forwarded_proto, "");
  EXPECT_EQ(untrusted.x_forwarded_host, "");
  EXPECT_EQ(untrusted.forwarded, "");
  const auto trusted = DecideForwarded(p, Spoofing("10.1.2.3"));
  EXPECT_EQ(trusted.x_forwarded_for, "6.6.6.6");
  EXPECT_EQ(trusted.x_forwarded_proto, "https");
  EXPECT_EQ(trusted.x_forwarded_host, "bank.test");
  EXPECT_EQ(trusted.forwarded, "for=6.6.6.6;proto=https");
}

TEST(Forwarded, Ipv6PeerIsQuotedAndTheHostEscaped) {
  ForwardedRequest r;
  r.peer_ip = "::1";
  r.proto = "http";
  r.host = R"(a"b\c)";
  const auto f = DecideForwarded(Policy({}), r);
  EXPECT_EQ(f.forwarded, R"(for="[::1]";host="a\"b\\c";proto=http)");
  EXPECT_TRUE(ValidForwardedList(f.forwarded));
  r.host.reset();
  const auto no_host = DecideForwarded(Policy({}), r);
  EXPECT_EQ(no_host.forwarded, R"(for="[::1]";proto=http)");
  EXPECT_EQ(no_host.x_forwarded_host, "");
}

TEST(Forwarded, ListSyntaxAsTheNginxWikiRegex) {
  for (const char* ok : {"", "for=1.2.3.4", "for=1.2.3.4;proto=https", "for=a, for=b",
                         "for=a ,\tfor=b", ",for=a", "for=a,", "for=a, ", R"(for="[::1]:80")",
                         R"(for="a,b";by=c)", ";for=a", "for=a;", R"(host="x\"y")", "a=b,,c=d"}) {
    EXPECT_TRUE(ValidForwardedList(ok)) << ok;
  }
  for (const char* bad : {" for=a", "for=a ", "for", "for=", "for =a", "for= a", "for=a b",
                          "for=\"open", "for=a;;=b", "=a", "for=a\"b\"", "for=\"a\x01\""}) {
    EXPECT_FALSE(ValidForwardedList(bad)) << bad;
  }
}

}  // namespace
}  // namespace ficus::proxy
