#include "service/metrics.h"

#include <gtest/gtest.h>

namespace ficus::proxy {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry reg;
  auto& c = reg.GetCounter("ficus_requests_total", "Requests.", {{"route", "a\"b"}});
  c.Inc();
  c.Inc(2);
  EXPECT_EQ(&c, &reg.GetCounter("ficus_requests_total", "Requests.", {{"route", "a\"b"}}));
  reg.GetGauge("ficus_up", "Up.").Set(1);
  auto& h = reg.GetHistogram("ficus_latency_seconds", "Latency.", {{"route", "r"}});
  h.ObserveUs(300);       // 0.0003 s -> first bucket
  h.ObserveUs(20000);     // 0.02 s -> le=0.025
  h.ObserveUs(50000000);  // +Inf
  const auto text = reg.Render();
  EXPECT_NE(text.find("# TYPE ficus_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("ficus_requests_total{route=\"a\\\"b\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ficus_up 1\n"), std::string::npos);
  EXPECT_NE(text.find("ficus_latency_seconds_bucket{route=\"r\",le=\"0.0005\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ficus_latency_seconds_bucket{route=\"r\",le=\"0.025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ficus_latency_seconds_bucket{route=\"r\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("ficus_latency_seconds_count{route=\"r\"} 3\n"), std::string::npos);
}

}  // namespace
}  // namespace ficus::proxy
