#include "api/follow_report.h"

#include <fmt/format.h>

#include "domain/cdc/gtid.h"

namespace ficus::migrator {

namespace {

using Total = std::atomic<std::uint64_t> cdc::FollowerMetrics::*;

// ficus_cdc_*: the follower's running totals, in one place.
struct TotalMetric {
  const char* name;
  const char* help;
  Total field;
};
constexpr TotalMetric kTotals[] = {
    {"rows_applied_total", "Profile row changes acknowledged by the writer",
     &cdc::FollowerMetrics::rows_applied_total},
    {"transactions_applied_total", "Binlog transactions applied and checkpointed",
     &cdc::FollowerMetrics::transactions_applied_total},
    {"events_total", "Binlog events received", &cdc::FollowerMetrics::events_total},
    {"updates_sent_total", "Writer updates acknowledged",
     &cdc::FollowerMetrics::updates_sent_total},
    {"updates_rejected_total", "Updates the writer refused with a 4xx (in the failures file)",
     &cdc::FollowerMetrics::updates_rejected_total},
    {"apply_calls_total",
     "Batches of updates acknowledged by the writer (bulk path: one or more import requests "
     "each)",
     &cdc::FollowerMetrics::apply_calls_total},
    {"rows_other_tables_total", "Rows of other tables, skipped",
     &cdc::FollowerMetrics::rows_other_tables_total},
    {"ddl_skipped_total", "DDL / standalone statements skipped",
     &cdc::FollowerMetrics::ddl_skipped_total},
    {"writer_retries_total", "Batches retried because the writer was unreachable",
     &cdc::FollowerMetrics::writer_retries_total},
    {"reconnects_total", "Binlog connections lost and reopened",
     &cdc::FollowerMetrics::reconnects_total},
    {"checkpoints_total", "Checkpoints saved", &cdc::FollowerMetrics::checkpoints_total},
};

}  // namespace

void RegisterFollowerMetrics(MetricsRegistry& registry, const cdc::FollowerMetrics& m,
                             const Clock& clock, const std::atomic<double>& rows_per_s) {
  const std::string p = "ficus_cdc_";
  for (const auto& t : kTotals) {
    registry.AddCallbackCounter(p + t.name, t.help, [&m, field = t.field] {
      return static_cast<double>((m.*field).load());
    });
  }
  registry.AddCallbackGauge(p + "lag_seconds",
                            "Age of the oldest change read from the binlog and not yet "
                            "acknowledged by the writer (0 when caught up; binlog time has whole "
                            "seconds)",
                            [&m, &clock] { return m.LagSeconds(UnixMicros(clock.Wall())); });
  registry.AddCallbackGauge(p + "lag_events", "Profile row changes read but not yet acknowledged",
                            [&m] { return static_cast<double>(m.pending_rows.load()); });
  registry.AddCallbackGauge(p + "rows_applied_per_second",
                            "Profile row changes acknowledged by the writer, over the last second",
                            [&rows_per_s] { return rows_per_s.load(); });
  registry.AddCallbackGauge(p + "binlog_connected", "1 while the binlog connection is up",
                            [&m] { return static_cast<double>(m.connected.load()); });
  registry.AddCallbackGauge(p + "writer_up", "0 while the writer is unreachable",
                            [&m] { return static_cast<double>(m.writer_ok.load()); });
  registry.AddGaugeFamily(p + "apply_path",
                          "How updates reach the writer: bulk import or single updates", [&m] {
                            std::vector<Sample> out;
                            if (std::string path = m.ApplyPath(); !path.empty()) {
                              out.push_back({{{"path", std::move(path)}}, 1});
                            }
                            return out;
                          });
  registry.AddGaugeFamily(p + "last_applied_gtid", "Last GTID applied and checkpointed (label)",
                          [&m] {
                            return std::vector<Sample>{{{{"gtid", m.LastGtid()}}, 1}};
                          });
  registry.AddHistogram(p + "change_age_seconds",
                        "Age of each applied change by its own per-key stamp when the writer "
                        "acknowledged it (replication delay for writers that stamp with the "
                        "current time)",
                        m.change_age);
}

std::string FormatStatus(const std::optional<cdc::FollowState>& state, const std::string& path,
                         const std::optional<std::string>& server_position,
                         const std::string& server, std::int64_t now_us) {
  std::string out;
  if (!state) {
    out += "phase:      none (no " + path +
           ": run `profile-migrator backfill`, which records the binlog position of its "
           "snapshot, then `profile-migrator follow`)\n";
  } else {
    const char* meaning = state->phase == "backfill"     ? "backfill running or interrupted"
                          : state->phase == "backfilled" ? "backfill done, follower not started"
                                                         : "following the binlog";
    out += fmt::format("phase:      {} ({})\n", state->phase, meaning);
    out += fmt::format("checkpoint: '{}' in {}, saved {:.1f} s ago\n", state->gtid, path,
                       static_cast<double>(now_us - state->saved_at_us) / 1e6);
  }
  if (server_position) {
    out += fmt::format("server:     '{}' ({})\n", *server_position, server);
    if (state) {
      auto have = cdc::GtidPosition::Parse(state->gtid);
      auto want = cdc::GtidPosition::Parse(*server_position);
      if (have && want) {
        out +=
            fmt::format("lag:        {} transactions behind the server\n", have->DistanceTo(*want));
      }
    }
  } else {
    out += fmt::format("server:     unreachable ({})\n", server);
  }
  return out;
}

}  // namespace ficus::migrator
