#include "domain/mismatch_ring.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>
#include <vector>

namespace ficus::proxy {
namespace {

MismatchRecord Rec(std::string route, std::string request_id) {
  MismatchRecord r;
  r.time_ms = 1000;
  r.route = std::move(route);
  r.request_id = std::move(request_id);
  r.user_key = "u1";
  r.legacy_status = 200;
  r.modern_status = 200;
  r.legacy_body = R"({"a":1})";
  r.modern_body = R"({"a":2})";
  r.diffs = {FieldDiff{"a", "1", "2"}};
  return r;
}

TEST(MismatchRing, KeepsTheLastNPerRouteNewestFirst) {
  MismatchRing ring(3);
  for (int i = 0; i < 5; ++i) ring.RecordMismatch(Rec("r1", "req" + std::to_string(i)));
  ring.RecordMismatch(Rec("r2", "other"));
  auto recent = ring.Recent("r1", 10);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].request_id, "req4");
  EXPECT_EQ(recent[2].request_id, "req2");
  EXPECT_GT(recent[0].seq, recent[1].seq);
  EXPECT_EQ(ring.Recent("r1", 1).size(), 1u);
  auto all = ring.Recent("", 10);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].request_id, "other");
  EXPECT_TRUE(ring.Recent("nope", 10).empty());
}

TEST(MismatchRing, CountsComparisonsAndRate) {
  MismatchRing ring(2);
  for (int i = 0; i < 7; ++i) ring.RecordMatch("r1");
  for (int i = 0; i < 3; ++i) ring.RecordMismatch(Rec("r1", "x"));
  auto c = ring.Counters("r1");
  EXPECT_EQ(c.compared, 10u);
  EXPECT_EQ(c.mismatched, 3u);  // counted even though only 2 are kept
  EXPECT_DOUBLE_EQ(c.Rate(), 0.3);
  EXPECT_EQ(ring.Counters("unknown").compared, 0u);
  EXPECT_DOUBLE_EQ(ring.Counters("unknown").Rate(), 0.0);
}

TEST(MismatchRing, CutsLongBodies) {
  MismatchRing ring(2, 8);
  auto r = Rec("r1", "x");
  r.legacy_body = std::string(100, 'a');
  ring.RecordMismatch(r);
  auto got = ring.Recent("r1", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].legacy_body, "aaaaaaaa...");
  EXPECT_EQ(got[0].modern_body, R"({"a":2})");
}

TEST(MismatchRing, ThreadSafeUnderConcurrentWriters) {
  MismatchRing ring(50);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < 2000; ++i) {
        if (i % 4 == 0) {
          ring.RecordMismatch(Rec("r", std::to_string(t)));
        } else {
          ring.RecordMatch("r");
        }
        if (i % 100 == 0) (void)ring.Recent("r", 10);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ring.Counters("r").compared, 8000u);
  EXPECT_EQ(ring.Counters("r").mismatched, 2000u);
  EXPECT_EQ(ring.Recent("r", 1000).size(), 50u);
}

TEST(MismatchRing, JsonShapeMatchesTheAdminApi) {
  auto r = Rec("r1", "req-1");
  r.diffs.push_back(FieldDiff{"b", std::nullopt, "true"});
  MismatchRing ring;
  ring.RecordMismatch(r);
  auto v = MismatchToJson(ring.Recent("r1", 1).at(0));
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("request_id").as_string(), "req-1");
  EXPECT_EQ(o.at("legacy").at("status").as_int64(), 200);
  EXPECT_EQ(o.at("modern").at("body").as_string(), R"({"a":2})");
  const auto& diffs = o.at("diffs").as_array();
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].at("path").as_string(), "a");
  EXPECT_TRUE(diffs[1].at("legacy").is_null());
  EXPECT_EQ(diffs[1].at("modern").as_string(), "true");
}

}  // namespace
}  // namespace ficus::proxy
