// The binlog follower (`profile-migrator follow`) as the proxy's
// admin status and dashboard show it. Pure: the proxy scrapes the
// follower's Prometheus /metrics (service/metrics_scraper.h, wired in
// main.cc) and hands each answer, or the reason there was none, to
// FollowerMonitor::Record().
//
// Contract:
// - ParseFollowerMetrics() reads the follower's text exposition
//   (apps/profile-migrator/src/api/follow_report.cc): ficus_cdc_lag_seconds
//   and ficus_cdc_last_applied_gtid{gtid="..."} are required (else
//   kInvalidArgument naming the missing metric: the URL is not a follower's
//   /metrics); ficus_cdc_lag_events, ficus_cdc_rows_applied_per_second,
//   ficus_cdc_rows_applied_total, ficus_cdc_binlog_connected and
//   ficus_cdc_writer_up are read when present. Comments, other metrics and
//   timestamps are ignored; label values are unescaped (\\ \" \n).
// - NextFollowerStatus() decides the state after one scrape: `unreachable`
//   when the scrape failed or the text is not a follower's (error says why;
//   the last good sample is kept, marked by last_ok_ms, and events/s is
//   unknown), `lagging` when lag_seconds > lag_warn_s, else `ok`. Events/s
//   is the follower's own rows_applied_per_second gauge, else the increase
//   of rows_applied_total since the previous good scrape over the wall time
//   between them (unknown after a counter reset or on the first scrape).
//   A new URL starts from nothing.
// - FollowerMonitor is the thread-safe holder: Record() from the scraper's
//   thread, Unconfigure() when the config drops `cdc:`, Snapshot() from the
//   admin loop. Before the first Record() the state is not_configured.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/result.h"

namespace ficus::proxy {

struct FollowerSample {
  double lag_seconds = 0;
  std::string last_gtid;
  std::optional<double> lag_events;
  std::optional<double> rows_per_s;
  std::optional<double> rows_applied_total;
  std::optional<bool> binlog_connected;
  std::optional<bool> writer_up;
};

Result<FollowerSample> ParseFollowerMetrics(std::string_view text);

enum class FollowerState { kNotConfigured, kOk, kLagging, kUnreachable };
// "not_configured", "ok", "lagging", "unreachable".
std::string_view FollowerStateName(FollowerState state);

struct FollowerStatus {
  FollowerState state = FollowerState::kNotConfigured;
  std::string url;
  double lag_warn_s = 0;
  std::optional<FollowerSample> last;  // the last good scrape (kept while unreachable)
  std::optional<double> events_per_s;
  int64_t last_scrape_ms = 0;  // wall time of the last attempt
  int64_t last_ok_ms = 0;      // wall time of the last good scrape
  std::string error;           // why the last scrape failed (state unreachable)
};

FollowerStatus NextFollowerStatus(const FollowerStatus& prev, const std::string& url,
                                  double lag_warn_s, const Result<std::string>& scrape,
                                  int64_t now_ms);

// The `cdc` object of GET /admin/status: state, url, lag_warn_s,
// lag_seconds, lag_events, events_per_s, last_gtid, binlog_connected,
// writer_up, last_scrape, last_ok (Unix ms), error, warning (the text the
// dashboard shows when state is lagging or unreachable, else ""). Unknown
// numbers are null.
boost::json::value FollowerStatusToJson(const FollowerStatus& s);

class FollowerMonitor {
 public:
  void Record(const std::string& url, double lag_warn_s, const Result<std::string>& scrape,
              int64_t now_ms);
  void Unconfigure();
  [[nodiscard]] FollowerStatus Snapshot() const;

 private:
  mutable std::mutex mu_;
  FollowerStatus status_;
};

}  // namespace ficus::proxy
