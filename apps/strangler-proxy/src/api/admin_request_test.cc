#include "api/admin_request.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

std::string ErrorOf(std::string_view body) {
  auto r = ParseRouteChangeRequest(body);
  EXPECT_FALSE(r.has_value()) << body;
  return r ? "" : r.error().message;
}

TEST(AdminRequest, AcceptsModePercentPauseAndWait) {
  auto r = ParseRouteChangeRequest(R"({"mode":"canary","percent":12.5,"paused":false,"wait_s":2})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->change.mode, Mode::kCanary);
  EXPECT_EQ(r->change.percent_bp, 1250u);
  EXPECT_EQ(r->change.paused, false);
  EXPECT_EQ(r->wait_ms, 2000u);
  auto s = ParseRouteChangeRequest(R"({"percent":"99.99"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->change.percent_bp, 9999u);
  EXPECT_FALSE(s->change.mode.has_value());
  EXPECT_EQ(s->wait_ms, 10000u);
  EXPECT_EQ(ParseRouteChangeRequest(R"({"percent":0.07})")->change.percent_bp, 7u);
  EXPECT_EQ(ParseRouteChangeRequest(R"({"percent":100})")->change.percent_bp, 10000u);
}

TEST(AdminRequest, ResetFallbackTakesAnOptionalWait) {
  EXPECT_EQ(*ParseResetFallbackRequest(""), 10000U);
  EXPECT_EQ(*ParseResetFallbackRequest("{\"wait_s\": 2.5}"), 2500U);
  EXPECT_EQ(ParseResetFallbackRequest("{\"wait_s\": 301}").error().message.rfind("wait_s: ", 0),
            0U);
  EXPECT_EQ(ParseResetFallbackRequest("{\"mode\": \"full\"}").error().message,
            "mode: unknown field (allowed: wait_s)");
}

TEST(AdminRequest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(R"({"percent":101})").rfind("percent: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"percent":-1})").rfind("percent: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"percent":1.005})").rfind("percent: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"percent":true})").rfind("percent: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"mode":"blue"})").rfind("mode: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"paused":"yes"})").rfind("paused: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"wait_s":1000})").rfind("wait_s: ", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"colour":"red"})").rfind("colour: unknown field", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({})").rfind("body: nothing to change", 0), 0u);
  EXPECT_EQ(ErrorOf(R"([1])").rfind("body: ", 0), 0u);
  EXPECT_EQ(ErrorOf("{").rfind("body: not valid JSON", 0), 0u);
}

}  // namespace
}  // namespace ficus::proxy
