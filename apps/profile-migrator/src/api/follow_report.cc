#include "api/follow_report.h"

#include <fmt/format.h>

#include "domain/cdc/gtid.h"

namespace ficus::migrator {

std::string RenderFollowerMetrics(const cdc::FollowerMetrics& m, std::int64_t now_us,
                                  double rows_per_s) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("ficus_cdc_lag_seconds", "gauge",
         "Age of the oldest change read from the binlog and not yet acknowledged by the writer "
         "(0 when caught up; binlog time has whole seconds)",
         m.LagSeconds(now_us));
  metric("ficus_cdc_lag_events", "gauge", "Profile row changes read but not yet acknowledged",
         m.pending_rows.load());
  metric("ficus_cdc_rows_applied_per_second", "gauge",
         "Profile row changes acknowledged by the writer, over the last second", rows_per_s);
  metric("ficus_cdc_rows_applied_total", "counter",
         "Profile row changes acknowledged by the writer", m.rows_applied_total.load());
  metric("ficus_cdc_transactions_applied_total", "counter",
         "Binlog transactions applied and checkpointed", m.transactions_applied_total.load());
  metric("ficus_cdc_events_total", "counter", "Binlog events received", m.events_total.load());
  metric("ficus_cdc_updates_sent_total", "counter", "Writer updates acknowledged",
         m.updates_sent_total.load());
  metric("ficus_cdc_updates_rejected_total", "counter",
         "Updates the writer refused with a 4xx (in the failures file)",
         m.updates_rejected_total.load());
  metric("ficus_cdc_apply_calls_total", "counter",
         "Batches of updates acknowledged by the writer (bulk path: one or more import "
         "requests each)",
         m.apply_calls_total.load());
  metric("ficus_cdc_rows_other_tables_total", "counter", "Rows of other tables, skipped",
         m.rows_other_tables_total.load());
  metric("ficus_cdc_ddl_skipped_total", "counter", "DDL / standalone statements skipped",
         m.ddl_skipped_total.load());
  metric("ficus_cdc_writer_retries_total", "counter",
         "Batches retried because the writer was unreachable", m.writer_retries_total.load());
  metric("ficus_cdc_reconnects_total", "counter", "Binlog connections lost and reopened",
         m.reconnects_total.load());
  metric("ficus_cdc_checkpoints_total", "counter", "Checkpoints saved", m.checkpoints_total.load());
  metric("ficus_cdc_binlog_connected", "gauge", "1 while the binlog connection is up",
         m.connected.load());
  metric("ficus_cdc_writer_up", "gauge", "0 while the writer is unreachable", m.writer_ok.load());
  out +=
      "# HELP ficus_cdc_apply_path How updates reach the writer: bulk import or single updates\n";
  out += "# TYPE ficus_cdc_apply_path gauge\n";
  if (const std::string p = m.ApplyPath(); !p.empty()) {
    out += fmt::format("ficus_cdc_apply_path{{path=\"{}\"}} 1\n", p);
  }
  out += "# HELP ficus_cdc_last_applied_gtid Last GTID applied and checkpointed (label)\n";
  out += "# TYPE ficus_cdc_last_applied_gtid gauge\n";
  out += fmt::format("ficus_cdc_last_applied_gtid{{gtid=\"{}\"}} 1\n", m.LastGtid());
  out +=
      "# HELP ficus_cdc_change_age_seconds Age of each applied change by its own per-key "
      "stamp when the writer acknowledged it (replication delay for writers that stamp with "
      "the current time)\n# TYPE ficus_cdc_change_age_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= cdc::FollowerMetrics::kAgeBucketCount; ++i) {
    cumulative += m.age_counts[i].load();
    const std::string le = i < cdc::FollowerMetrics::kAgeBucketCount
                               ? fmt::format("{}", cdc::FollowerMetrics::kAgeBuckets[i])
                               : "+Inf";
    out += fmt::format("ficus_cdc_change_age_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  out += fmt::format("ficus_cdc_change_age_seconds_sum {}\n",
                     static_cast<double>(m.age_sum_us.load()) / 1e6);
  out += fmt::format("ficus_cdc_change_age_seconds_count {}\n", m.age_total.load());
  return out;
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
