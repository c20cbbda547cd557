#include <gtest/gtest.h>

#include "ficus/etcd/client.h"
#include "json_codec.h"

namespace ficus::etcd {
namespace {

TEST(EtcdCodec, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    auto enc = codec::Base64Encode(bytes);
    EXPECT_EQ(enc.size() % 4, 0u);
    auto dec = codec::Base64Decode(enc, "k");
    ASSERT_TRUE(dec.has_value());
    EXPECT_EQ(*dec, bytes);
  }
  EXPECT_EQ(codec::Base64Encode("/ficus/"), "L2ZpY3VzLw==");
  EXPECT_FALSE(codec::Base64Decode("ab$d", "kvs[0].key").has_value());
}

TEST(EtcdCodec, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("/ficus/"), "/ficus0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdCodec, EndpointErrorsNameTheField) {
  auto e = ParseEndpoint("127.0.0.1", "control.endpoints[1]");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message.find("control.endpoints[1]"), std::string::npos);
  EXPECT_FALSE(ParseEndpoint("h:99999", "x").has_value());
  auto ok = ParseEndpoint("http://127.0.0.1:2379", "x");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->second, 2379);
  EXPECT_FALSE(Client::Create(ClientOptions{}).has_value());
}

}  // namespace
}  // namespace ficus::etcd
