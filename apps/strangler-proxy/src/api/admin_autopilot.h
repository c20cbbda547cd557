// Autopilot admin endpoints (plugged into AdminApi with AddHandler()):
//
//   GET  /admin/autopilot                  every route group with a plan
//   GET  /admin/autopilot/NAME[?timeline=N] one group (NAME: route or group name):
//        {group, route, source, plan, status, why, run:{status, step, step_label,
//         steps[], started_at, step_since, failures, why, timeline[]}, check}
//        `why` is the one line that says why the plan holds, stopped or ended.
//   POST /admin/autopilot/NAME/start       body: empty (the config's plan) or a
//                                          plan object (domain/autopilot_plan.h)
//   POST /admin/autopilot/NAME/pause | resume | abort
//
// Reads are open (no users' data); POSTs need an operate token (401/403 as
// for route changes) and are audit-logged with the token's name. Errors:
// 400 naming the key of a bad plan, 404 unknown name, 409 wrong state
// (start while running, resume while not paused).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "api/autopilot_driver.h"
#include "domain/config.h"
#include "ficus/http/message.h"

namespace ficus::proxy {

class AdminAutopilot {
 public:
  AdminAutopilot(AutopilotDriver& driver, std::function<std::shared_ptr<const Config>()> configured)
      : driver_(driver), configured_(std::move(configured)) {}
  boost::asio::awaitable<std::optional<http::Response>> Handle(http::Request& req);

 private:
  AutopilotDriver& driver_;
  std::function<std::shared_ptr<const Config>()> configured_;
};

}  // namespace ficus::proxy
