#include "domain/json_diff.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

DiffResult Diff(std::string_view a, std::string_view b, const std::vector<std::string>& ignore = {},
                int sa = 200, int sb = 200) {
  auto d = JsonDiffer::Create(ignore);
  EXPECT_TRUE(d.has_value());
  return d->Compare(HttpAnswer{sa, a}, HttpAnswer{sb, b});
}

TEST(JsonDiff, EqualBodiesAreEqualWhateverTheKeyOrder) {
  auto r = Diff(R"({"ret":200,"data":{"a":"1","b":"2"},"msg":""})",
                R"({"msg":"","data":{"b":"2","a":"1"},"ret":200})");
  EXPECT_TRUE(r.equal);
  EXPECT_TRUE(r.compared_as_json);
  EXPECT_TRUE(r.diffs.empty());
}

TEST(JsonDiff, IdenticalBytesAreEqualWithoutAParse) {
  auto r = Diff(R"({"ret":200,"data":{"a":"1"}})", R"({"ret":200,"data":{"a":"1"}})");
  EXPECT_TRUE(r.equal);
  EXPECT_FALSE(r.compared_as_json) << "identical bytes need no parse";
  EXPECT_TRUE(r.diffs.empty());
  // The same bytes with different statuses still differ.
  auto s = Diff(R"({"a":1})", R"({"a":1})", {}, 200, 500);
  EXPECT_FALSE(s.equal);
}

TEST(JsonDiff, NumberFormsCompareByValue) {
  EXPECT_TRUE(Diff(R"({"n":1})", R"({"n":1.0})").equal);
  EXPECT_TRUE(Diff(R"({"n":1})", R"({"n":1e0})").equal);
  EXPECT_TRUE(Diff(R"({"n":-0.5})", R"({"n":-5e-1})").equal);
  EXPECT_TRUE(Diff(R"({"n":18446744073709551615})", R"({"n":18446744073709551615})").equal);
  auto r = Diff(R"({"n":1})", R"({"n":2})");
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0], (FieldDiff{"n", "1", "2"}));
  // Large integers compare exactly, not through double.
  EXPECT_FALSE(Diff(R"({"n":9007199254740993})", R"({"n":9007199254740992})").equal);
}

TEST(JsonDiff, ReportsNestedDifferencesWithBothValues) {
  auto r = Diff(R"({"data":{"attributes":{"plan":"pro","locale":"en"}}})",
                R"({"data":{"attributes":{"plan":"free","locale":"en"}}})");
  EXPECT_FALSE(r.equal);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].path, "data.attributes.plan");
  EXPECT_EQ(r.diffs[0].legacy, "\"pro\"");
  EXPECT_EQ(r.diffs[0].modern, "\"free\"");
}

TEST(JsonDiff, MissingKeysAreAbsentOnOneSide) {
  auto r = Diff(R"({"a":{"x":1}})", R"({"a":{"y":true}})");
  ASSERT_EQ(r.diffs.size(), 2u);
  EXPECT_EQ(r.diffs[0], (FieldDiff{"a.x", "1", std::nullopt}));
  EXPECT_EQ(r.diffs[1], (FieldDiff{"a.y", std::nullopt, "true"}));
}

TEST(JsonDiff, IgnorePathsSkipFieldsAndSubtrees) {
  const char* a = R"({"ret":200,"data":{"updated_at":"2026-01-01","attributes":{"k":"v"}}})";
  const char* b = R"({"ret":200,"data":{"updated_at":"2026-01-02","attributes":{"k":"v"}}})";
  EXPECT_FALSE(Diff(a, b).equal);
  EXPECT_TRUE(Diff(a, b, {"data.updated_at"}).equal);
  EXPECT_TRUE(Diff(a, b, {"data"}).equal);  // a prefix ignores everything below
  EXPECT_TRUE(Diff(a, b, {"*.updated_at"}).equal);
  EXPECT_TRUE(Diff(a, b, {"**.updated_at"}).equal);
  EXPECT_FALSE(Diff(a, b, {"data.attributes"}).equal);
  // Ignoring one field still reports another.
  auto r = Diff(R"({"data":{"updated_at":1,"x":1}})", R"({"data":{"updated_at":2,"x":2}})",
                {"data.updated_at"});
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].path, "data.x");
}

TEST(JsonDiff, ArraysCompareByIndexAndWildcardsMatchIndexes) {
  auto r = Diff(R"({"items":[{"id":1,"ts":5},{"id":2,"ts":6}]})",
                R"({"items":[{"id":1,"ts":7},{"id":3,"ts":8},{"id":4}]})");
  ASSERT_EQ(r.diffs.size(), 4u);
  EXPECT_EQ(r.diffs[0].path, "items[0].ts");
  EXPECT_EQ(r.diffs[1].path, "items[1].id");
  EXPECT_EQ(r.diffs[2].path, "items[1].ts");
  EXPECT_EQ(r.diffs[3], (FieldDiff{"items[2]", std::nullopt, R"({"id":4})"}));
  auto ig =
      Diff(R"({"items":[{"id":1,"ts":5}]})", R"({"items":[{"id":1,"ts":7}]})", {"items[*].ts"});
  EXPECT_TRUE(ig.equal);
  EXPECT_TRUE(Diff(R"({"items":[1,2]})", R"({"items":[1,3]})", {"items.1"}).equal);
  EXPECT_TRUE(Diff(R"({"items":[1,2]})", R"({"items":[1,3]})", {"items[1]"}).equal);
  EXPECT_FALSE(Diff(R"({"items":[1,2]})", R"({"items":[2,1]})").equal);  // order matters
}

TEST(JsonDiff, TypeChangesAreOneDifference) {
  auto r = Diff(R"({"a":1,"b":{"c":1},"d":null})", R"({"a":"1","b":[1],"d":false})");
  ASSERT_EQ(r.diffs.size(), 3u);
  EXPECT_EQ(r.diffs[0], (FieldDiff{"a", "1", "\"1\""}));
  EXPECT_EQ(r.diffs[1], (FieldDiff{"b", R"({"c":1})", "[1]"}));
  EXPECT_EQ(r.diffs[2], (FieldDiff{"d", "null", "false"}));
}

TEST(JsonDiff, StatusDifferenceIsReported) {
  auto r = Diff(R"({"ret":200})", R"({"ret":500})", {"ret"}, 200, 500);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0], (FieldDiff{"status", "200", "500"}));
}

TEST(JsonDiff, NonJsonBodiesCompareAsBytes) {
  EXPECT_TRUE(Diff("hello", "hello").equal);
  auto r = Diff("hello", "hellO");
  EXPECT_FALSE(r.compared_as_json);
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0], (FieldDiff{"body", "\"hello\"", "\"hellO\""}));
  // JSON on one side only is a byte difference too.
  EXPECT_FALSE(Diff(R"({"a":1})", "<html>").equal);
  // Byte comparison is exact: JSON normalisation does not apply.
  EXPECT_FALSE(Diff("{\"a\":1}", "{\"a\":1} x").equal);
}

TEST(JsonDiff, KeysWithDotsAreQuotedAndIgnorable) {
  auto r = Diff(R"({"attributes":{"a.b":"1"}})", R"({"attributes":{"a.b":"2"}})");
  ASSERT_EQ(r.diffs.size(), 1u);
  EXPECT_EQ(r.diffs[0].path, R"(attributes["a.b"])");
  EXPECT_TRUE(Diff(R"({"attributes":{"a.b":"1"}})", R"({"attributes":{"a.b":"2"}})",
                   {R"(attributes["a.b"])"})
                  .equal);
  EXPECT_TRUE(
      Diff(R"({"attributes":{"a.b":"1"}})", R"({"attributes":{"a.b":"2"}})", {"attributes.*"})
          .equal);
}

TEST(JsonDiff, DiffListIsBounded) {
  std::string a = "{", b = "{";
  for (int i = 0; i < 100; ++i) {
    a += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":1";
    b += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":2";
  }
  a += "}";
  b += "}";
  auto d = JsonDiffer::Create({}, JsonDiffer::Options{.max_diffs = 10, .max_value_bytes = 512});
  ASSERT_TRUE(d.has_value());
  auto r = d->Compare({200, a}, {200, b});
  EXPECT_FALSE(r.equal);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.diffs.size(), 10u);
}

TEST(JsonDiff, BadIgnorePatternsAreRejectedWithTheirIndex) {
  for (const char* bad : {"", "a..b", "a.", "a[", "a[x]", "a b"}) {
    auto d = JsonDiffer::Create({"ok", bad});
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_NE(d.error().message.find("compare.ignore[1]"), std::string::npos) << d.error().message;
  }
  auto p = ParsePathPattern(R"(a[2]["x.y"].*.**)");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size(), 5u);
  EXPECT_EQ(FormatPath(*p), R"(a[2]["x.y"].*.**)");
}

}  // namespace
}  // namespace ficus::proxy
