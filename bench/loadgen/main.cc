// ficus-loadgen: open-loop HTTP/1.1 load generator. Usage: bench/README.md
// (or --help). Prints one JSON summary on stdout (and to --json-out), a
// one-line human summary on stderr; exit 1 on bad options or if no
// connection could be opened, 0 otherwise (errors are in the summary).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ficus/http/message.h"
#include "load_engine.h"
#include "request_set.h"

namespace ficus::bench {
namespace {

bool ParseUrl(const std::string& url, LoadOptions& o, RequestSpec& spec) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  spec.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) return false;
  o.host = authority.substr(0, colon);
  try {
    const int port = std::stoi(authority.substr(colon + 1));
    if (port <= 0 || port > 65535) return false;
    o.port = static_cast<std::uint16_t>(port);
  } catch (...) {
    return false;
  }
  spec.host = authority;
  return true;
}

void Percentiles(std::ostringstream& j, const char* name, const LogHistogram& h) {
  auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "\"%s\":{\"count\":%llu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,"
                "\"p99_99\":%.3f,\"max\":%.3f,\"mean\":%.3f}",
                name, static_cast<unsigned long long>(h.count()), ms(h.Percentile(50)),
                ms(h.Percentile(90)), ms(h.Percentile(99)), ms(h.Percentile(99.9)),
                ms(h.Percentile(99.99)), ms(h.max()), h.mean() / 1e6);
  j << buf;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "ficus-loadgen: open-loop HTTP/1.1 load, latency from each request's intended "
      "send time (bench/README.md)"};
  LoadOptions o;
  RequestSpec spec;
  std::string url, arrival = "constant", body_file, json_out, label;
  double duration_s = 10, warmup_s = 0, drain_s = 5, timeout_s = 10, timeline_ms = 0;
  int tick_us = 50;
  std::string body;
  app.add_option("--url", url, "http://IPv4:port/path (the path may hold {user} {rand})")
      ->required();
  app.add_option("--rate", o.rate, "offered requests per second (all threads)")->required();
  app.add_option("--arrival", arrival, "constant | poisson")->capture_default_str();
  app.add_option("--duration-s", duration_s, "measured seconds")->capture_default_str();
  app.add_option("--warmup-s", warmup_s, "seconds at the rate before measuring")
      ->capture_default_str();
  app.add_option("--drain-s", drain_s, "max seconds to finish the backlog after the window")
      ->capture_default_str();
  app.add_option("--timeout-s", timeout_s, "per-request timeout from its send")
      ->capture_default_str();
  app.add_option("--tick-us", tick_us,
                 "batch wake-ups for due requests on this grid (0: exact); the delay counts")
      ->capture_default_str();
  app.add_option("--connections,-c", o.connections, "keep-alive connections (all threads)")
      ->capture_default_str();
  app.add_option("--threads,-t", o.threads, "event-loop threads")->capture_default_str();
  app.add_option("--method", spec.method, "HTTP method")->capture_default_str();
  app.add_option("--header,-H", spec.headers, "extra field 'Name: value' (repeatable)");
  app.add_option("--body", body, "body template ({user} {rand} {attrs:N})");
  app.add_option("--body-file", body_file, "bodies, one per line (each a template)");
  app.add_option("--users", spec.users, "user pool for {user}")->capture_default_str();
  app.add_flag("--sequential", spec.sequential, "{user} = 1, 2, 3, ... instead of random");
  app.add_option("--pregen", spec.count, "requests built before the run")->capture_default_str();
  app.add_option("--seed", o.seed, "randomness (schedule and requests)")->capture_default_str();
  app.add_option("--timeline-ms", timeline_ms,
                 "also report count and worst latencies per interval of intended send time")
      ->capture_default_str();
  app.add_option("--json-out", json_out, "also write the JSON summary here");
  app.add_option("--label", label, "name carried into the summary");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const std::string& m) {
    std::cerr << "ficus-loadgen: " << m << "\n";
    return 1;
  };
  if (!ParseUrl(url, o, spec))
    return fail("--url: expected http://IPv4:port/path, got '" + url + "'");
  const auto kind = ParseArrival(arrival);
  if (!kind) return fail("--arrival: 'constant' or 'poisson', got '" + arrival + "'");
  o.arrival = *kind;
  if (!(duration_s > 0) || warmup_s < 0 || drain_s < 0 || !(timeout_s > 0)) {
    return fail("--duration-s/--timeout-s must be > 0, --warmup-s/--drain-s >= 0");
  }
  auto secs = [](double s) { return std::chrono::nanoseconds(static_cast<std::int64_t>(s * 1e9)); };
  o.duration = secs(duration_s);
  o.warmup = secs(warmup_s);
  o.drain = secs(drain_s);
  o.timeout = secs(timeout_s);
  if (timeline_ms < 0 || timeline_ms > 60'000) return fail("--timeline-ms: 0..60000");
  o.timeline = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double, std::milli>(timeline_ms));
  if (tick_us < 0 || tick_us > 10'000) return fail("--tick-us: 0..10000");
  o.tick = std::chrono::microseconds(tick_us);
  spec.body_template = body;
  spec.seed = o.seed;
  if (!body_file.empty()) {
    std::ifstream in(body_file);
    if (!in) return fail("--body-file: cannot read '" + body_file + "'");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) spec.body_lines.push_back(line);
    }
    if (spec.body_lines.empty())
      return fail("--body-file: no non-empty line in '" + body_file + "'");
  }
  auto built = BuildRequests(spec);
  if (!built) return fail(built.error().message);
  o.requests = std::make_shared<const std::vector<std::string>>(std::move(*built));

  auto run = RunLoad(o);
  if (!run) return fail(run.error().message);
  const LoadResult& r = *run;

  std::ostringstream j;
  char buf[1024];
  std::string esc_label, esc_err, esc_url;
  ficus::http::AppendJsonEscaped(esc_label, label);
  ficus::http::AppendJsonEscaped(esc_err, r.first_error);
  ficus::http::AppendJsonEscaped(esc_url, url);
  std::snprintf(
      buf, sizeof buf,
      "{\"label\":\"%s\",\"url\":\"%s\",\"arrival\":\"%s\",\"offered_rate\":%.1f,"
      "\"scheduled_rate\":%.1f,\"achieved_rate\":%.1f,\"duration_s\":%.3f,\"warmup_s\":%.3f,"
      "\"connections\":%d,\"threads\":%d,\"scheduled\":%llu,\"completed\":%llu,",
      esc_label.c_str(), esc_url.c_str(), arrival.c_str(), o.rate,
      static_cast<double>(r.scheduled) / r.duration_s,
      static_cast<double>(r.completed_in_window) / r.duration_s, r.duration_s, warmup_s,
      o.connections, o.threads, static_cast<unsigned long long>(r.scheduled),
      static_cast<unsigned long long>(r.completed));
  j << buf;
  std::snprintf(
      buf, sizeof buf,
      "\"status\":{\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu,\"other\":%llu},"
      "\"errors\":{\"total\":%llu,\"io\":%llu,\"timeouts\":%llu,\"unfinished\":%llu,"
      "\"connect\":%llu,\"first\":\"%s\"},\"reconnects\":%llu,\"max_backlog\":%llu,",
      static_cast<unsigned long long>(r.status_2xx), static_cast<unsigned long long>(r.status_3xx),
      static_cast<unsigned long long>(r.status_4xx), static_cast<unsigned long long>(r.status_5xx),
      static_cast<unsigned long long>(r.status_other), static_cast<unsigned long long>(r.errors()),
      static_cast<unsigned long long>(r.io_errors), static_cast<unsigned long long>(r.timeouts),
      static_cast<unsigned long long>(r.unfinished),
      static_cast<unsigned long long>(r.connect_errors), esc_err.c_str(),
      static_cast<unsigned long long>(r.reconnects),
      static_cast<unsigned long long>(r.max_backlog_seen));
  j << buf;
  Percentiles(j, "latency_ms", r.latency);
  j << ',';
  Percentiles(j, "service_ms", r.service);
  j << ',';
  Percentiles(j, "send_lag_ms", r.send_lag);
  if (!r.timeline.empty()) {
    // [interval start ms, count, worst latency ms, worst service ms, worst send lag ms]
    j << ",\"timeline_ms\":" << timeline_ms << ",\"timeline\":[";
    for (std::size_t i = 0; i < r.timeline.size(); ++i) {
      const TimelineBucket& b = r.timeline[i];
      std::snprintf(buf, sizeof buf, "%s[%.0f,%llu,%.3f,%.3f,%.3f]", i ? "," : "",
                    static_cast<double>(i) * timeline_ms, static_cast<unsigned long long>(b.count),
                    static_cast<double>(b.max_latency) / 1e6,
                    static_cast<double>(b.max_service) / 1e6,
                    static_cast<double>(b.max_send_lag) / 1e6);
      j << buf;
    }
    j << ']';
  }
  j << "}\n";
  std::cout << j.str() << std::flush;
  if (!json_out.empty()) {
    std::ofstream(json_out) << j.str();
  }
  auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  std::fprintf(
      stderr,
      "ficus-loadgen: offered %.0f/s achieved %.0f/s; latency p50 %.2f p99 %.2f p99.9 %.2f "
      "max %.2f ms; errors %llu\n",
      o.rate, static_cast<double>(r.completed_in_window) / r.duration_s,
      ms(r.latency.Percentile(50)), ms(r.latency.Percentile(99)), ms(r.latency.Percentile(99.9)),
      ms(r.latency.max()), static_cast<unsigned long long>(r.errors()));
  return 0;
}

}  // namespace
}  // namespace ficus::bench

int main(int argc, char** argv) {
  return ficus::bench::Main(argc, argv);
}
