#include "api/bulk_request.h"

#include <gtest/gtest.h>

#include "api/bulk_response.h"
#include "domain/validation.h"

namespace ficus::writer::api {
namespace {

constexpr const char* kUser = "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11";

std::string Rec(const std::string& fields) {
  return "{" + fields + "}";
}

std::string Message(const ImportRecord& r) {
  return r.update ? "" : r.update.error().message;
}

TEST(BulkRequest, EachLineIsARecordValidatedAlone) {
  std::string u = std::string("\"user_id\":\"") + kUser + "\"";
  std::string body =
      Rec(u + ",\"ts\":5,\"attributes\":{\"a\":\"1\",\"b\":null}") + "\n" +       // 1 ok
      "not json\n" +                                                              // 2
      "[1]\n" +                                                                   // 3
      Rec(u + ",\"attributes\":{\"a\":\"1\"}") + "\r\n" +                         // 4 no ts
      Rec(u + ",\"ts\":0,\"attributes\":{\"a\":\"1\"}") + "\n" +                  // 5
      Rec(u + ",\"ts\":1.5,\"attributes\":{\"a\":\"1\"}") + "\n" +                // 6
      Rec(u + ",\"ts\":10000000000000000,\"attributes\":{\"a\":\"1\"}") + "\n" +  // 7: 17 digits
      Rec(u + ",\"ts\":7,\"attributes\":{\"bad key\":\"1\"}") + "\n" +            // 8
      Rec(u + ",\"ts\":7,\"attributes\":{\"a\":\"" + std::string(1025, 'x') + "\"}}") + "\n" +  // 9
      Rec("\"user_id\":\"nope\",\"ts\":7,\"attributes\":{\"a\":\"1\"}") + "\n" +  // 10
      Rec(u + ",\"ts\":7,\"extra\":1,\"attributes\":{\"a\":\"1\"}") + "\n" +      // 11
      std::string("\xff\n") +                                                     // 12
      "\n" +                                                                      // 13 empty
      Rec(u + ",\"ts\":9999999999999999,\"attributes\":{\"a\":5}") + "\n";        // 14
  auto parsed = ParseImportBody(body, 100);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& r = *parsed;
  ASSERT_EQ(r.size(), 14u);
  ASSERT_TRUE(r[0].update);
  EXPECT_EQ(r[0].update->ts_us, 5);
  EXPECT_EQ(FormatUuid(r[0].update->user), kUser);
  EXPECT_EQ(r[0].update->attributes.at("a"), "1");
  EXPECT_FALSE(r[0].update->attributes.at("b").has_value());
  EXPECT_EQ(Message(r[1]), "record: malformed JSON");
  EXPECT_EQ(Message(r[2]), "record: must be a JSON object");
  EXPECT_EQ(Message(r[3]), "ts: required");
  EXPECT_TRUE(r[3].user.has_value()) << "user_id passed before ts failed";
  const std::string bad_ts = "ts: must be a positive integer of microseconds since the epoch";
  EXPECT_EQ(Message(r[4]), bad_ts);
  EXPECT_EQ(Message(r[5]), bad_ts);
  EXPECT_EQ(Message(r[6]), bad_ts);
  EXPECT_EQ(Message(r[7]), "attributes.bad key: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]");
  EXPECT_EQ(Message(r[8]), "record: malformed JSON");  // the extra '}'
  EXPECT_EQ(Message(r[9]), "user_id: must be a canonical UUID");
  EXPECT_FALSE(r[9].user.has_value());
  EXPECT_EQ(Message(r[10]), "extra: unknown field");
  EXPECT_FALSE(r[10].user.has_value()) << "unknown fields are checked before user_id";
  EXPECT_EQ(Message(r[11]), "record: not valid UTF-8");
  EXPECT_EQ(Message(r[12]), "record: malformed JSON");
  EXPECT_EQ(Message(r[13]), "attributes.a: value must be a string or null");
}

TEST(BulkRequest, ValueLimitIsTheSingleUpdates) {
  std::string u = std::string("\"user_id\":\"") + kUser + "\",\"ts\":1";
  auto ok =
      ParseImportBody(Rec(u + ",\"attributes\":{\"a\":\"" + std::string(1024, 'x') + "\"}"), 9);
  ASSERT_TRUE(ok);
  EXPECT_TRUE((*ok)[0].update);
  auto bad =
      ParseImportBody(Rec(u + ",\"attributes\":{\"a\":\"" + std::string(1025, 'x') + "\"}"), 9);
  EXPECT_EQ(Message((*bad)[0]), "attributes.a: value longer than 1024 bytes");
}

TEST(BulkRequest, WholeRequestLimits) {
  auto empty = ParseImportBody("", 10);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "body: no records");
  EXPECT_EQ(ParseImportBody("\n", 10).error().message, "body: no records");
  auto many = ParseImportBody("{}\n{}\n{}", 2);
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(many.error().message, "body: more than 2 records");
  EXPECT_TRUE(ParseImportBody("{}\n{}\n", 2)) << "one trailing newline ends the body";
}

TEST(BulkRequest, ReadBodyIsOneIdPerLine) {
  auto ids = ParseReadBody(
      std::string(kUser) + "\nnope\n\n" + "6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11\n", 10);
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 4u);
  EXPECT_TRUE((*ids)[0]);
  EXPECT_EQ((*ids)[1].error().message, "user_id: must be a canonical UUID");
  EXPECT_EQ((*ids)[2].error().message, "user_id: required");
  ASSERT_TRUE((*ids)[3]);
  EXPECT_EQ(*(*ids)[3], *(*ids)[0]);
  EXPECT_EQ(ParseReadBody("a\nb\nc", 2).error().message, "body: more than 2 user ids");
}

TEST(BulkRequest, MediaTypes) {
  EXPECT_TRUE(IsMediaType("application/x-ndjson", kImportContentType));
  EXPECT_TRUE(IsMediaType(" Application/X-NDJSON ; charset=utf-8", kImportContentType));
  EXPECT_FALSE(IsMediaType("application/json", kImportContentType));
  EXPECT_TRUE(IsMediaType("text/plain; charset=utf-8", kReadContentType));
}

TEST(BulkResponse, ImportResultsAreByteExact) {
  std::vector<Status> s;
  s.emplace_back();
  s.emplace_back(MakeError(ErrorCode::kInvalidArgument, "attributes.a\"b: x"));
  s.emplace_back(MakeError(ErrorCode::kConflict, "user_id: not applied"));
  EXPECT_EQ(
      ImportResultsBody(s),
      R"({"ret":200,"data":{"records":3,"applied":1,"rejected":2,"results":[{"ret":200},)"
      R"({"ret":400,"msg":"attributes.a\"b: x"},{"ret":409,"msg":"user_id: not applied"}]},"msg":""})");
}

TEST(BulkResponse, ReadResultsAreByteExact) {
  auto user = ParseUuid(kUser);
  Profile p;
  p.updated_us = 1700000000000001;
  p.cells["b"] = Cell{1, std::string("2")};
  p.cells["a"] = Cell{1, std::nullopt};
  std::vector<ReadItem> items;
  items.push_back(ReadItem{*user, p});
  items.push_back(
      ReadItem{*user, MakeError(ErrorCode::kNotFound, "user_id: no profile for this user")});
  items.push_back(ReadItem{MakeError(ErrorCode::kInvalidArgument, "user_id: required"), Profile{}});
  EXPECT_EQ(
      ReadResultsBody(items),
      std::string(R"({"ret":200,"data":{"profiles":[{"ret":200,"user_id":")") + kUser +
          R"(","updated_at":"2023-11-14T22:13:20.000001Z","attributes":{"b":"2"}},)" +
          R"({"ret":404,"user_id":")" + kUser +
          R"(","msg":"user_id: no profile for this user"},{"ret":400,"msg":"user_id: required"}]},"msg":""})");
}

}  // namespace
}  // namespace ficus::writer::api
