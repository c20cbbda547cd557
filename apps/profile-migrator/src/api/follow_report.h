// Text the follower shows: Prometheus /metrics and `status`. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/cdc/follow_state.h"
#include "domain/cdc/follower.h"

namespace ficus::migrator {

// Prometheus text format of the follower's metrics at wall time `now_us`;
// `rows_per_s` is the applied rows' rate over the last second.
std::string RenderFollowerMetrics(const cdc::FollowerMetrics& m, std::int64_t now_us,
                                  double rows_per_s);

// `status`: phase, checkpoint and its age, the server's position and how
// many transactions the checkpoint is behind it. `state` nullopt = no file.
std::string FormatStatus(const std::optional<cdc::FollowState>& state, const std::string& path,
                         const std::optional<std::string>& server_position,
                         const std::string& server, std::int64_t now_us);

}  // namespace ficus::migrator
