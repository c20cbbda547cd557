// ReplicaReport: what each proxy replica of a fleet publishes about itself
// every second (under its lease in the control store), and the fleet totals
// built from all of them.
//
// Encoding: compact JSON {"id","admin","at","routes":{NAME:{"legacy_rps",
// "modern_rps","legacy_requests","legacy_errors","modern_requests",
// "modern_errors","compared","mismatched","backlog_to_legacy",
// "backlog_to_modern","legacy_latency","modern_latency","served",
// "legacy_answers","legacy_answer_errors","modern_answers",
// "modern_answer_errors","skipped"}}}, the latencies as [[bucket,count],...]
// (TrafficWindow's buckets over its window). The *_requests/*_errors are the
// live window's; served .. skipped (and compared, mismatched) count since
// the replica started: the autopilot's gates take differences of those.
// Decoding is lenient (missing numbers are 0) but an unparseable value is an
// error naming the key. FleetTotal merges the latency histograms (p99s do
// not add up; histograms do), so the fleet's percentiles are those of every
// replica's answers together.
// No I/O; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domain/traffic_window.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct ReplicaRouteStats {
  double legacy_rps = 0;
  double modern_rps = 0;
  uint64_t legacy_requests = 0;
  uint64_t legacy_errors = 0;
  uint64_t modern_requests = 0;
  uint64_t modern_errors = 0;
  uint64_t compared = 0;
  uint64_t mismatched = 0;
  uint64_t backlog_to_legacy = 0;
  uint64_t backlog_to_modern = 0;
  // Since the replica started (ControlPlane RouteTotals, compare skips).
  uint64_t served = 0;
  uint64_t legacy_answers = 0;
  uint64_t legacy_answer_errors = 0;
  uint64_t modern_answers = 0;
  uint64_t modern_answer_errors = 0;
  uint64_t skipped = 0;
  LatencySketch legacy_latency;
  LatencySketch modern_latency;
};

struct ReplicaReport {
  std::string id;
  std::string admin;  // host:port of its admin listener
  int64_t at_ms = 0;
  std::map<std::string, ReplicaRouteStats, std::less<>> routes;
};

std::string EncodeReplicaReport(const ReplicaReport& r);
Result<ReplicaReport> DecodeReplicaReport(std::string_view json, std::string_view key);

// Sum of one route's stats over `reports` (replicas without the route add 0),
// leaving out the replica `except_id` when given (its own numbers are live).
ReplicaRouteStats FleetTotal(const std::vector<ReplicaReport>& reports, std::string_view route,
                             std::string_view except_id = "");

}  // namespace ficus::proxy
