#include "domain/follower_status.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

namespace ficus::proxy {
namespace {

namespace json = boost::json;

constexpr std::string_view kLag = "ficus_cdc_lag_seconds";
constexpr std::string_view kGtid = "ficus_cdc_last_applied_gtid";

struct Line {
  std::string_view name;
  std::map<std::string, std::string, std::less<>> labels;
  std::string_view value;
};

bool Space(char c) {
  return c == ' ' || c == '\t';
}

// One sample line of the text exposition format; an error names the metric.
Result<Line> ParseLine(std::string_view s) {
  Line out;
  size_t i = 0;
  while (i < s.size() && s[i] != '{' && !Space(s[i])) ++i;
  out.name = s.substr(0, i);
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(out.name) + ": " + why);
  };
  if (i < s.size() && s[i] == '{') {
    ++i;
    for (;;) {
      while (i < s.size() && (Space(s[i]) || s[i] == ',')) ++i;
      if (i >= s.size()) return bad("labels not closed");
      if (s[i] == '}') {
        ++i;
        break;
      }
      const size_t eq = s.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') {
        return bad("label without =\"value\"");
      }
      std::string key(s.substr(i, eq - i));
      std::string value;
      size_t j = eq + 2;
      for (; j < s.size() && s[j] != '"'; ++j) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          ++j;
          value += s[j] == 'n' ? '\n' : s[j];
        } else {
          value += s[j];
        }
      }
      if (j >= s.size()) return bad("label value not closed");
      out.labels[key] = std::move(value);
      i = j + 1;
    }
  }
  while (i < s.size() && Space(s[i])) ++i;
  size_t end = i;
  while (end < s.size() && !Space(s[end])) ++end;
  out.value = s.substr(i, end - i);
  if (out.value.empty()) return bad("no value");
  return out;
}

Result<double> Number(const Line& l) {
  double v = 0;
  const auto* first = l.value.data();
  const auto* last = first + l.value.size();
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || p != last || !std::isfinite(v)) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(l.name) + ": value '" +
                                                      std::string(l.value) + "' is not a number");
  }
  return v;
}

json::value Opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
json::value Opt(const std::optional<bool>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

}  // namespace

Result<FollowerSample> ParseFollowerMetrics(std::string_view text) {
  FollowerSample s;
  bool have_lag = false;
  bool have_gtid = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && Space(line.front())) line.remove_prefix(1);
    if (line.empty() || line.front() == '#' || !line.starts_with("ficus_cdc_")) continue;
    auto l = ParseLine(line);
    if (!l) return tl::unexpected(l.error());
    if (l->name == kGtid) {
      auto it = l->labels.find("gtid");
      if (it == l->labels.end()) {
        return MakeError(ErrorCode::kInvalidArgument, std::string(kGtid) + ": no gtid label");
      }
      s.last_gtid = it->second;
      have_gtid = true;
      continue;
    }
    static const std::string_view kRead[] = {kLag,
                                             "ficus_cdc_lag_events",
                                             "ficus_cdc_rows_applied_per_second",
                                             "ficus_cdc_rows_applied_total",
                                             "ficus_cdc_binlog_connected",
                                             "ficus_cdc_writer_up"};
    if (std::find(std::begin(kRead), std::end(kRead), l->name) == std::end(kRead)) continue;
    auto v = Number(*l);
    if (!v) return tl::unexpected(v.error());
    if (l->name == kLag) {
      s.lag_seconds = *v;
      have_lag = true;
    } else if (l->name == "ficus_cdc_lag_events") {
      s.lag_events = *v;
    } else if (l->name == "ficus_cdc_rows_applied_per_second") {
      s.rows_per_s = *v;
    } else if (l->name == "ficus_cdc_rows_applied_total") {
      s.rows_applied_total = *v;
    } else if (l->name == "ficus_cdc_binlog_connected") {
      s.binlog_connected = *v != 0;
    } else {
      s.writer_up = *v != 0;
    }
  }
  if (!have_lag || !have_gtid) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "not a binlog follower's /metrics: " + std::string(!have_lag ? kLag : kGtid) + " missing");
  }
  return s;
}

std::string_view FollowerStateName(FollowerState state) {
  switch (state) {
    case FollowerState::kNotConfigured:
      return "not_configured";
    case FollowerState::kOk:
      return "ok";
    case FollowerState::kLagging:
      return "lagging";
    case FollowerState::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

FollowerStatus NextFollowerStatus(const FollowerStatus& prev, const std::string& url,
                                  double lag_warn_s, const Result<std::string>& scrape,
                                  int64_t now_ms) {
  FollowerStatus next;
  if (prev.url == url) next = prev;  // a new URL starts from nothing
  next.url = url;
  next.lag_warn_s = lag_warn_s;
  next.last_scrape_ms = now_ms;
  Result<FollowerSample> sample = scrape ? ParseFollowerMetrics(*scrape)
                                         : Result<FollowerSample>(tl::unexpected(scrape.error()));
  if (!sample) {
    next.state = FollowerState::kUnreachable;
    next.error = sample.error().message;
    next.events_per_s.reset();
    return next;
  }
  next.error.clear();
  next.events_per_s.reset();
  if (sample->rows_per_s) {
    next.events_per_s = *sample->rows_per_s;
  } else if (next.last && next.last->rows_applied_total && sample->rows_applied_total &&
             *sample->rows_applied_total >= *next.last->rows_applied_total &&
             now_ms > next.last_ok_ms) {
    next.events_per_s = (*sample->rows_applied_total - *next.last->rows_applied_total) * 1000.0 /
                        static_cast<double>(now_ms - next.last_ok_ms);
  }
  next.state = sample->lag_seconds > lag_warn_s ? FollowerState::kLagging : FollowerState::kOk;
  next.last = std::move(*sample);
  next.last_ok_ms = now_ms;
  return next;
}

boost::json::value FollowerStatusToJson(const FollowerStatus& s) {
  json::object o;
  o["state"] = std::string(FollowerStateName(s.state));
  if (s.state == FollowerState::kNotConfigured) return o;
  const auto& l = s.last;
  o["url"] = s.url;
  o["lag_warn_s"] = s.lag_warn_s;
  o["lag_seconds"] = l ? json::value(l->lag_seconds) : json::value(nullptr);
  o["lag_events"] = l ? Opt(l->lag_events) : json::value(nullptr);
  o["events_per_s"] = Opt(s.events_per_s);
  o["last_gtid"] = l ? json::value(l->last_gtid) : json::value(nullptr);
  o["binlog_connected"] = l ? Opt(l->binlog_connected) : json::value(nullptr);
  o["writer_up"] = l ? Opt(l->writer_up) : json::value(nullptr);
  o["last_scrape"] = s.last_scrape_ms;
  o["last_ok"] = s.last_ok_ms ? json::value(s.last_ok_ms) : json::value(nullptr);
  o["error"] = s.error;
  std::string warning;
  if (s.state == FollowerState::kLagging) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "binlog follower lag %.1f s is over %.0f s", l->lag_seconds,
                  s.lag_warn_s);
    warning = buf;
    if (l->writer_up && !*l->writer_up) warning += " (the writer is unreachable)";
  } else if (s.state == FollowerState::kUnreachable) {
    warning = "binlog follower unreachable at " + s.url + ": " + s.error;
  }
  o["warning"] = warning;
  return o;
}

void FollowerMonitor::Record(const std::string& url, double lag_warn_s,
                             const Result<std::string>& scrape, int64_t now_ms) {
  std::lock_guard lock(mu_);
  status_ = NextFollowerStatus(status_, url, lag_warn_s, scrape, now_ms);
}

void FollowerMonitor::Unconfigure() {
  std::lock_guard lock(mu_);
  status_ = FollowerStatus{};
}

FollowerStatus FollowerMonitor::Snapshot() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace ficus::proxy
