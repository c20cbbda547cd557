// AutopilotPlan: how a route group walks its migration by itself.
//
// A plan is the `autopilot:` block of a route in the YAML config (it drives
// that route's group, domain/route_group.h) or the same object as JSON in
// POST /admin/autopilot/NAME/start. Shape, every key optional:
//
//   autopilot:
//     shadow: {min_compared: 200, max_mismatch_rate: 0.01}
//     canary: {steps: [1, 5, 25, 50, 100], min_s: 60, min_requests: 200}
//     full:   {min_s: 60, min_requests: 200}        # held, then the plan is done
//     gates:
//       window_s: 30           # sliding window the gates judge (restarts at each step)
//       min_samples: 20        # modern answers in the window before error/latency judge
//       min_compared: 20       # compared answers in the window before mismatch judges
//       error_rate: {max_increase: 0.01, max_ratio: 2}   # modern vs legacy
//       p99: {max_ratio: 1.5, slack_ms: 10}              # modern p99 vs legacy p99
//       max_mismatch_rate: 0.01
//       drained: true          # advance only with no replay backlog towards modern
//     check: {url: http://127.0.0.1:9000/verify, timeout_ms: 2000, interval_s: 10}
//     window: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}   # UTC
//     on_failure: {rollback_to: last_good, pause_after: 3}   # or legacy
//     notify: {url: http://127.0.0.1:9000/slack-hook}
//     tick_ms: 500
//
// Defaults suit a small service (a few requests per second): ~1 minute and
// 200 requests per step. Time-compressed tests set seconds per step.
// Errors: kInvalidArgument whose message starts with the key path
// ("autopilot.canary.steps[2]: must be above the previous step"); unknown
// keys are errors. Pure; no I/O.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::proxy {

struct AutopilotPlan {
  struct Shadow {
    uint32_t min_compared = 200;
    double max_mismatch_rate = 0.01;
  } shadow;
  struct Hold {
    uint32_t min_s = 60;
    uint32_t min_requests = 200;
  };
  std::vector<uint32_t> canary_steps_bp = {100, 500, 2500, 5000, 10000};  // basis points
  Hold canary;
  Hold full;
  struct Gates {
    uint32_t window_s = 30;
    uint32_t min_samples = 20;
    uint32_t min_compared = 20;
    double max_error_increase = 0.01;  // modern - legacy error rate
    double max_error_ratio = 2.0;      // modern / legacy error rate
    double max_p99_ratio = 1.5;
    double p99_slack_ms = 10;
    double max_mismatch_rate = 0.01;
    bool drained = true;
  } gates;
  struct Check {
    std::string url;  // empty: no external check
    uint32_t timeout_ms = 2000;
    uint32_t interval_s = 10;
  } check;
  struct Window {
    bool enabled = false;
    uint8_t days = 0x7f;    // bit 0 = Monday ... bit 6 = Sunday
    uint32_t from_min = 0;  // minutes after 00:00 UTC
    uint32_t to_min = 24 * 60;
  } window;
  enum class RollbackTo { kLastGood, kLegacy } rollback_to = RollbackTo::kLastGood;
  uint32_t pause_after = 3;  // failures before a human is asked
  std::string notify_url;    // empty: no notifications
  uint32_t tick_ms = 500;
};

// `path` prefixes every error message ("routes[1].autopilot").
Result<AutopilotPlan> ParseAutopilotPlan(const boost::json::value& v, std::string_view path);
boost::json::value AutopilotPlanToJson(const AutopilotPlan& plan);

// http://host:port[/path] with an IP literal or localhost; the parts.
struct WebhookUrl {
  std::string host;
  uint16_t port = 0;
  std::string target = "/";
};
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

}  // namespace ficus::proxy
