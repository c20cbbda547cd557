// What the follower shows: its /metrics and the `status` text.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/cdc/follow_state.h"
#include "domain/cdc/follower.h"
#include "ficus/clock.h"
#include "ficus/metrics.h"

namespace ficus::migrator {

// The follower's metrics (ficus_cdc_*) on the shared registry: running
// totals are counters (*_total), levels gauges, the change age a histogram;
// the last GTID and the apply path are labels of a gauge at 1. Read at
// scrape time from `m`; the lag against `clock`'s wall time; `rows_per_s` is
// the applied rows' rate over the last second. `m`, `clock` and `rows_per_s`
// must outlive the registry.
void RegisterFollowerMetrics(MetricsRegistry& registry, const cdc::FollowerMetrics& m,
                             const Clock& clock, const std::atomic<double>& rows_per_s);

// `status`: phase, checkpoint and its age, the server's position and how
// many transactions the checkpoint is behind it. `state` nullopt = no file.
std::string FormatStatus(const std::optional<cdc::FollowState>& state, const std::string& path,
                         const std::optional<std::string>& server_position,
                         const std::string& server, std::int64_t now_us);

}  // namespace ficus::migrator
