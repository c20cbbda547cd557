#include "domain/follower_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace ficus::proxy {
namespace {

namespace json = boost::json;

// As `profile-migrator follow` renders it (api/follow_report.cc), abridged.
std::string FollowerText(double lag, const std::string& gtid, double rows_total,
                         const char* rows_per_s = "12.5", int writer_up = 1) {
  std::string t =
      "# HELP ficus_cdc_lag_seconds Age of the oldest change\n"
      "# TYPE ficus_cdc_lag_seconds gauge\n"
      "ficus_cdc_lag_seconds " +
      std::to_string(lag) +
      "\n"
      "# HELP ficus_cdc_lag_events Profile row changes read but not yet acknowledged\n"
      "# TYPE ficus_cdc_lag_events gauge\n"
      "ficus_cdc_lag_events 3\n";
  if (rows_per_s) {
    t += "# TYPE ficus_cdc_rows_applied_per_second gauge\nficus_cdc_rows_applied_per_second " +
         std::string(rows_per_s) + "\n";
  }
  t += "# TYPE ficus_cdc_rows_applied_total counter\nficus_cdc_rows_applied_total " +
       std::to_string(static_cast<long long>(rows_total)) +
       "\n"
       "ficus_cdc_binlog_connected 1\n"
       "ficus_cdc_writer_up " +
       std::to_string(writer_up) +
       "\n"
       "ficus_cdc_apply_path{path=\"bulk\"} 1\n"
       "# HELP ficus_cdc_last_applied_gtid Last GTID applied and checkpointed (label)\n"
       "# TYPE ficus_cdc_last_applied_gtid gauge\n"
       "ficus_cdc_last_applied_gtid{gtid=\"" +
       gtid +
       "\"} 1\n"
       "ficus_cdc_change_age_seconds_bucket{le=\"0.1\"} 4\n"
       "ficus_cdc_change_age_seconds_bucket{le=\"+Inf\"} 9\n";
  return t;
}

TEST(FollowerMetrics, ParsesTheFollowersExposition) {
  auto s = ParseFollowerMetrics(FollowerText(7, "0-1-42,1-2-7", 1234));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->lag_seconds, 7);
  EXPECT_EQ(s->last_gtid, "0-1-42,1-2-7");
  EXPECT_EQ(s->lag_events, 3);
  EXPECT_EQ(s->rows_per_s, 12.5);
  EXPECT_EQ(s->rows_applied_total, 1234);
  EXPECT_EQ(s->binlog_connected, true);
  EXPECT_EQ(s->writer_up, true);
}

TEST(FollowerMetrics, EmptyGtidAndEscapesInLabels) {
  auto s = ParseFollowerMetrics(
      "ficus_cdc_lag_seconds 0\r\nficus_cdc_last_applied_gtid{a=\"x\\\"y\",gtid=\"\"} 1\r\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->last_gtid, "");
  EXPECT_FALSE(s->rows_per_s);
  auto t = ParseFollowerMetrics(
      "ficus_cdc_lag_seconds 1 1700000000000\n"
      "ficus_cdc_last_applied_gtid{gtid=\"a\\\\b\\\"c\"} 1\n");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->last_gtid, "a\\b\"c");
  EXPECT_EQ(t->lag_seconds, 1);
}

TEST(FollowerMetrics, NotAFollowerNamesTheMissingMetric) {
  // e.g. the writer's /metrics given by mistake.
  auto s = ParseFollowerMetrics(
      "# TYPE ficus_writer_requests_total counter\n"
      "ficus_writer_requests_total{route=\"x\"} 5\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("ficus_cdc_lag_seconds missing"), std::string::npos)
      << s.error().message;
  auto g = ParseFollowerMetrics("ficus_cdc_lag_seconds 0\n");
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("ficus_cdc_last_applied_gtid missing"), std::string::npos);
}

TEST(FollowerMetrics, MalformedLinesAreErrorsNamingTheMetric) {
  for (const char* bad :
       {"ficus_cdc_lag_seconds abc\nficus_cdc_last_applied_gtid{gtid=\"x\"} 1\n",
        "ficus_cdc_lag_seconds\n", "ficus_cdc_lag_seconds NaN\n",
        "ficus_cdc_last_applied_gtid{gtid=\"x} 1\n", "ficus_cdc_last_applied_gtid{gtid} 1\n"}) {
    auto s = ParseFollowerMetrics(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().message.rfind("ficus_cdc_", 0), 0u) << s.error().message;
  }
}

const std::string kUrl = "http://127.0.0.1:9904/metrics";

TEST(FollowerStatus, OkThenLaggingOverTheThresholdThenOkAgain) {
  FollowerStatus s;
  EXPECT_EQ(s.state, FollowerState::kNotConfigured);
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(0, "0-1-1", 10), 1000);
  EXPECT_EQ(s.state, FollowerState::kOk);
  EXPECT_EQ(s.events_per_s, 12.5);
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(5, "0-1-1", 10), 2000);
  EXPECT_EQ(s.state, FollowerState::kOk) << "at the threshold is not over it";
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(6, "0-1-1", 10, "0", 0), 3000);
  EXPECT_EQ(s.state, FollowerState::kLagging);
  const auto j = FollowerStatusToJson(s).as_object();
  EXPECT_EQ(j.at("state").as_string(), "lagging");
  EXPECT_EQ(j.at("warning").as_string(),
            "binlog follower lag 6.0 s is over 5 s (the writer is unreachable)");
  s = NextFollowerStatus(s, kUrl, 10, FollowerText(6, "0-1-2", 11), 4000);
  EXPECT_EQ(s.state, FollowerState::kOk) << "the threshold comes with each scrape (config reload)";
}

TEST(FollowerStatus, UnreachableKeepsTheLastSampleAndSaysWhy) {
  FollowerStatus s = NextFollowerStatus({}, kUrl, 5, FollowerText(0, "0-1-9", 10), 1000);
  s = NextFollowerStatus(s, kUrl, 5,
                         Result<std::string>(MakeError(ErrorCode::kUnavailable,
                                                       "connect: Connection refused (not sent)")),
                         2000);
  EXPECT_EQ(s.state, FollowerState::kUnreachable);
  EXPECT_FALSE(s.events_per_s);
  const auto j = FollowerStatusToJson(s).as_object();
  EXPECT_EQ(j.at("state").as_string(), "unreachable");
  EXPECT_EQ(j.at("last_gtid").as_string(), "0-1-9");
  EXPECT_EQ(j.at("last_ok").as_int64(), 1000);
  EXPECT_EQ(j.at("last_scrape").as_int64(), 2000);
  EXPECT_EQ(j.at("error").as_string(), "connect: Connection refused (not sent)");
  EXPECT_EQ(j.at("warning").as_string(),
            "binlog follower unreachable at " + kUrl + ": connect: Connection refused (not sent)");
  EXPECT_TRUE(j.at("events_per_s").is_null());
  // A page that is not the follower's counts as unreachable too.
  s = NextFollowerStatus(s, kUrl, 5, std::string("hello"), 3000);
  EXPECT_EQ(s.state, FollowerState::kUnreachable);
  EXPECT_NE(s.error.find("not a binlog follower's /metrics"), std::string::npos);
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(1, "0-1-10", 11), 4000);
  EXPECT_EQ(s.state, FollowerState::kOk);
  EXPECT_EQ(FollowerStatusToJson(s).as_object().at("error").as_string(), "");
}

TEST(FollowerStatus, EventsPerSecondFromTheCounterWithoutTheGauge) {
  FollowerStatus s = NextFollowerStatus({}, kUrl, 5, FollowerText(0, "x", 100, nullptr), 1000);
  EXPECT_FALSE(s.events_per_s) << "no previous scrape: unknown";
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(0, "x", 300, nullptr), 3000);
  ASSERT_TRUE(s.events_per_s);
  EXPECT_DOUBLE_EQ(*s.events_per_s, 100.0);  // 200 rows in 2 s
  s = NextFollowerStatus(s, kUrl, 5, FollowerText(0, "x", 50, nullptr), 4000);
  EXPECT_FALSE(s.events_per_s) << "the follower restarted (counter reset): unknown";
  s = NextFollowerStatus(s, "http://127.0.0.1:1/metrics", 5, FollowerText(0, "y", 60, nullptr),
                         5000);
  EXPECT_FALSE(s.events_per_s) << "another follower: no delta against the old one";
}

TEST(FollowerStatus, MonitorStartsNotConfiguredAndForgetsOnUnconfigure) {
  FollowerMonitor m;
  EXPECT_EQ(FollowerStatusToJson(m.Snapshot()), json::parse(R"({"state":"not_configured"})"));
  m.Record(kUrl, 5, FollowerText(0, "0-1-3", 1), 1000);
  EXPECT_EQ(m.Snapshot().state, FollowerState::kOk);
  auto j = FollowerStatusToJson(m.Snapshot()).as_object();
  EXPECT_EQ(j.at("url").as_string(), kUrl);
  EXPECT_EQ(j.at("lag_seconds").as_double(), 0);
  EXPECT_EQ(j.at("warning").as_string(), "");
  m.Unconfigure();
  EXPECT_EQ(m.Snapshot().state, FollowerState::kNotConfigured);
}

}  // namespace
}  // namespace ficus::proxy
