#include "api/update_request.h"

#include <gtest/gtest.h>

namespace ficus::writer::api {
namespace {

const UpdateHeaders kJson{"application/json", std::nullopt, std::nullopt};
constexpr const char* kUser = "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11";

std::string Msg(const UpdateHeaders& h, std::string_view body) {
  auto r = ParseUpdateRequest(h, body);
  return r ? "" : r.error().message;
}

TEST(WriterUpdateRequest, ChecksRunInContractOrder) {
  // Content type before everything in the body.
  EXPECT_EQ(Msg({"text/plain", "a b", "x"}, "not json"), "Content-Type: must be application/json");
  EXPECT_EQ(ParseUpdateRequest({std::nullopt, {}, {}}, "{}").error().code, ErrorCode::kUnsupported);
  // Idempotency-Key before timestamp, timestamp before body.
  EXPECT_EQ(Msg({"application/json", "a b", "x"}, "nope"),
            "Idempotency-Key: must be 1 to 128 printable ASCII characters");
  EXPECT_EQ(Msg({"application/json", "ok", "x"}, "nope"),
            "X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch");
  // UTF-8 before JSON syntax.
  EXPECT_EQ(Msg(kJson, "{\"a\":\"\xC3\x28\""), "body: not valid UTF-8");
  EXPECT_EQ(Msg(kJson, "{\"a\":"), "body: malformed JSON");
  EXPECT_EQ(Msg(kJson, "[1]"), "body: must be a JSON object");
  // Unknown field before user_id checks.
  EXPECT_EQ(Msg(kJson, R"({"zz":1,"user_id":5,"yy":2})"), "zz: unknown field");
  EXPECT_EQ(Msg(kJson, R"({"attributes":5})"), "user_id: required");
  EXPECT_EQ(Msg(kJson, R"({"user_id":null})"), "user_id: must be a string");
  EXPECT_EQ(Msg(kJson, R"({"user_id":"x","attributes":5})"), "user_id: must be a canonical UUID");
  EXPECT_EQ(Msg(kJson, std::string(R"({"user_id":")") + kUser + R"("})"), "attributes: required");
  EXPECT_EQ(Msg(kJson, std::string(R"({"user_id":")") + kUser + R"(","attributes":[]})"),
            "attributes: must be an object");
  // Per entry in document order: the key rule of a later entry does not
  // hide the value rule of an earlier one.
  EXPECT_EQ(Msg(kJson, std::string(R"({"user_id":")") + kUser +
                           R"(","attributes":{"a":5,"bad key":"v"}})"),
            "attributes.a: value must be a string or null");
}

TEST(WriterUpdateRequest, DuplicateKeysLastWinsAtFirstPosition) {
  auto r = ParseUpdateRequest(kJson, std::string(R"({"user_id":")") + kUser +
                                         R"(","attributes":{"a":5,"b":"x","a":"ok"}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r->update.attributes.at("a"), "ok");
}

TEST(WriterUpdateRequest, BuildsCommand) {
  UpdateHeaders h{"Application/JSON; charset=utf-8", "key-1", "1700000000123456"};
  std::string body = std::string(R"({"user_id":")") + "6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11" +
                     R"(","attributes":{"plan":"pro","nick":null}})";
  auto r = ParseUpdateRequest(h, body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->update.ts_us, 1700000000123456);
  EXPECT_EQ(*r->idempotency_key, "key-1");
  EXPECT_EQ(r->update.user[0], 0x6f);
  EXPECT_EQ(*r->update.attributes.at("plan"), "pro");
  EXPECT_FALSE(r->update.attributes.at("nick").has_value());
  EXPECT_EQ(r->raw_body, body);
}

TEST(WriterGetQuery, UserIdRequiredAndCanonical) {
  EXPECT_EQ(ParseGetQuery("").error().message, "user_id: required");
  EXPECT_EQ(ParseGetQuery("other=1").error().message, "user_id: required");
  EXPECT_EQ(ParseGetQuery("user_id=nope").error().message, "user_id: must be a canonical UUID");
  EXPECT_TRUE(ParseGetQuery(std::string("x=1&user_id=") + kUser));
  EXPECT_TRUE(ParseGetQuery("user_id=6F1C2A9E%2D8D0B-4C1E-9A57-3F2D1B0C4E11"));
}

}  // namespace
}  // namespace ficus::writer::api
