#include "service/metrics.h"

#include <gtest/gtest.h>

namespace ficus::writer {
namespace {

TEST(WriterMetricsRegistry, RendersPrometheusTextWithHelpAndType) {
  MetricsRegistry r;
  r.AddCounter("req_total", "Requests.", R"(route="a",status="200")").Inc(3);
  r.AddCounter("req_total", "Requests.", R"(route="a",status="400")").Inc();
  Histogram& h = r.AddHistogram("lat_seconds", "Latency.", {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(7);
  r.AddGauge("depth", "Depth.").Set(4);
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP req_total Requests.\n# TYPE req_total counter\n"
                      "req_total{route=\"a\",status=\"200\"} 3\n"
                      "req_total{route=\"a\",status=\"400\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1\nlat_seconds_bucket{le=\"1\"} 2\n"
                      "lat_seconds_bucket{le=\"+Inf\"} 3\nlat_seconds_sum 7.55\n"
                      "lat_seconds_count 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE depth gauge\ndepth 4\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ficus::writer
