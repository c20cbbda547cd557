#include "api/envelope.h"

#include <gtest/gtest.h>

#include "domain/validation.h"

namespace ficus::writer::api {
namespace {

TEST(WriterEnvelope, ErrorAndOkBodies) {
  EXPECT_EQ(ErrorBody(400, "attributes.\"x: bad"),
            R"({"ret":400,"data":null,"msg":"attributes.\"x: bad"})");
  EXPECT_EQ(OkBody(R"({"status":"ok"})"), R"({"ret":200,"data":{"status":"ok"},"msg":""})");
}

TEST(WriterEnvelope, ProfileSortedVisibleEmptyObjectNeverArray) {
  Uuid u = *ParseUuid("6F1C2A9E-8D0B-4C1E-9A57-3F2D1B0C4E11");
  Profile p;
  p.updated_us = 1700000000123456;
  p.cells["plan"] = Cell{1, "pro"};
  p.cells["gone"] = Cell{2, std::nullopt};
  p.cells["locale"] = Cell{1, "zh-CN"};
  EXPECT_EQ(
      ProfileJson(u, p),
      R"({"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11","updated_at":"2023-11-14T22:13:20.123456Z","attributes":{"locale":"zh-CN","plan":"pro"}})");
  EXPECT_EQ(OkProfileBody(u, p), OkBody(ProfileJson(u, p)));
  p.cells.erase("plan");
  p.cells.erase("locale");
  EXPECT_NE(ProfileJson(u, p).find(R"("attributes":{}})"), std::string::npos);
}

}  // namespace
}  // namespace ficus::writer::api
