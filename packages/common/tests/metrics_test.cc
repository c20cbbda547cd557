#include "ficus/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ficus {
namespace {

TEST(MetricsRegistry, RendersPrometheusTextWithHelpTypeAndLabels) {
  MetricsRegistry r;
  r.GetCounter("req_total", "Requests.", {{"route", "a"}, {"status", "200"}}).Inc(3);
  r.GetCounter("req_total", "Requests.", {{"route", "a"}, {"status", "400"}}).Inc();
  Histogram& h = r.GetHistogram("lat_seconds", "Latency.", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(7);
  r.GetGauge("depth", "Depth.").Set(4);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# HELP req_total Requests.\n# TYPE req_total counter\n"
                      "req_total{route=\"a\",status=\"200\"} 3\n"
                      "req_total{route=\"a\",status=\"400\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"
                      "lat_seconds_bucket{le=\"0.1\"} 2\nlat_seconds_bucket{le=\"1\"} 2\n"
                      "lat_seconds_bucket{le=\"+Inf\"} 3\nlat_seconds_sum 7.15\n"
                      "lat_seconds_count 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE depth gauge\ndepth 4\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameSeries) {
  MetricsRegistry r;
  Counter& a = r.GetCounter("x_total", "X.", {{"k", "v"}});
  Counter& b = r.GetCounter("x_total", "X.", {{"k", "v"}});
  Counter& c = r.GetCounter("x_total", "X.", {{"k", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsRegistry, LabelValuesAreEscaped) {
  EXPECT_EQ(RenderLabels({{"path", "a\"b\\c\nd"}}), R"({path="a\"b\\c\nd"})");
  EXPECT_EQ(RenderLabels({}), "");
}

TEST(MetricsRegistry, HistogramLabelsGetLeAppended) {
  MetricsRegistry r;
  r.GetHistogram("d_seconds", "D.", {{"route", "r"}}, {1}).ObserveUs(2'000'000);
  const std::string text = r.Render();
  EXPECT_NE(text.find("d_seconds_bucket{route=\"r\",le=\"1\"} 0\n"
                      "d_seconds_bucket{route=\"r\",le=\"+Inf\"} 1\n"
                      "d_seconds_sum{route=\"r\"} 2\nd_seconds_count{route=\"r\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(MetricsRegistry, CallbacksRunAtScrapeTimeAsGaugeOrCounter) {
  MetricsRegistry r;
  double level = 1.5;
  r.AddCallbackGauge("level", "Level.", [&] { return level; });
  r.AddCallbackCounter("kept_total", "Kept elsewhere.", [] { return 42.0; });
  level = 2.5;
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE level gauge\nlevel 2.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE kept_total counter\nkept_total 42\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, AComputedFamilyShowsTheSeriesOfThisScrapeOnly) {
  MetricsRegistry r;
  std::vector<Sample> now = {{{{"route", "a"}}, 3}, {{{"route", "b"}}, 4}};
  r.AddCounterFamily("done_total", "Done, per route.", [&] { return now; });
  r.AddGaugeFamily("last_gtid", "Last GTID (label).", [] {
    return std::vector<Sample>{{{{"gtid", "0-1-7"}}, 1}};
  });
  std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE done_total counter\ndone_total{route=\"a\"} 3\n"
                      "done_total{route=\"b\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE last_gtid gauge\nlast_gtid{gtid=\"0-1-7\"} 1\n"), std::string::npos)
      << text;
  now = {{{{"route", "b"}}, 5}};  // route a left the config: its series goes too
  text = r.Render();
  EXPECT_EQ(text.find("route=\"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("done_total{route=\"b\"} 5\n"), std::string::npos) << text;
}

#define ALL_TEST_METRICS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(things_total, "Things done.")             \
  GAUGE(things_queued, "Things waiting.")           \
  HISTOGRAM(thing_seconds, "Per thing.", std::vector<double>{0.5})

struct TestMetrics {
  FICUS_METRIC_FIELDS(ALL_TEST_METRICS)
};

TEST(MetricsRegistry, AllXMetricsDeclaresAndRegistersInOnePlace) {
  MetricsRegistry r;
  TestMetrics m;
  FICUS_REGISTER_METRICS(ALL_TEST_METRICS, m, r, "ficus_test_");
  ASSERT_NE(m.things_total, nullptr);
  ASSERT_NE(m.things_queued, nullptr);
  ASSERT_NE(m.thing_seconds, nullptr);
  m.things_total->Inc(2);
  m.things_queued->Set(5);
  m.thing_seconds->Observe(0.25);
  const std::string text = r.Render();
  EXPECT_NE(text.find("# HELP ficus_test_things_total Things done.\n"
                      "# TYPE ficus_test_things_total counter\nficus_test_things_total 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE ficus_test_things_queued gauge\nficus_test_things_queued 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ficus_test_thing_seconds_bucket{le=\"0.5\"} 1\n"), std::string::npos)
      << text;
}

TEST(MetricsRegistry, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry r;
  Counter& c = r.GetCounter("n_total", "N.");
  Histogram& h = r.GetHistogram("h_seconds", "H.");
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.ObserveUs(100);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000u);
  EXPECT_EQ(h.Count(), 40000u);
}

// A callback may take a lock that another thread holds while it registers a
// series (the proxy's reload holds its config lock around Get*(), and its
// per-route families read that config): Render() must not hold the
// registry's lock while callbacks run. Here the callback registers a series
// itself, which deadlocked when it did.
TEST(MetricsRegistry, CallbacksRunWithoutTheRegistryLock) {
  auto* reg = new MetricsRegistry;  // leaked: a deadlocked Render() keeps using it
  reg->AddGaugeFamily("ficus_test_routes", "Routes.", [reg] {
    reg->GetCounter("ficus_test_route_requests_total", "Per route.", {{"route", "r"}}).Inc();
    return std::vector<Sample>{{{{"route", "r"}}, 1}};
  });
  auto done = std::make_shared<std::promise<std::string>>();
  auto rendered = done->get_future();
  std::thread([reg, done] { done->set_value(reg->Render()); }).detach();
  ASSERT_EQ(rendered.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "Render() deadlocked: a callback waited for the registry's own lock";
  const std::string text = rendered.get();
  EXPECT_NE(text.find("ficus_test_routes{route=\"r\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(reg->Render().find("ficus_test_route_requests_total{route=\"r\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace ficus
