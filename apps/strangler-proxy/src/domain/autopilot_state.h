// AutopilotRecord: one route group's autopilot plan and run as it is kept
// outside the process (a state file beside the config for a single proxy,
// etcd for a fleet), so a restarted proxy, or the replica that takes over
// from a dead leader, carries on the same run instead of forgetting it.
//
// Encoding: compact JSON {"v":1,"group","route","source","plan":{...},
// "run":{"status","step","last_good","started","step_since","failures",
// "why","timeline":[...]},"pending_align",
// "pending":null|{"kind","target","reason","failure","gates"}}.
// The gate window (samples) is not kept: it restarts when the run is
// recovered. Decoding names the key of anything wrong ("autopilot state
// <key>: run.step: ...") and never returns half a record.
//
// `pending` is a step change the driver sent (advance, rollback, the
// rollback of a pause) and did not see confirmed yet: it is written BEFORE
// the change goes out, cleared once it is committed. Recover() uses it to
// tell "the change went through before the crash" (the route is at the
// target: commit it, once) from "it did not" (the route is still at the
// run's step: carry on) — the takeover never enters a step twice and never
// skips one.
//
// Pure: no I/O, no clock. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/autopilot.h"
#include "domain/autopilot_plan.h"
#include "ficus/result.h"

namespace ficus::proxy {

struct AutopilotPending {
  AutopilotDecision::Kind kind = AutopilotDecision::Kind::kAdvance;
  int target = 0;
  bool failure = false;
  std::string reason;
  GateValues values;
};

struct AutopilotRecord {
  std::string group;
  std::string route;
  std::string source;  // "config" or "api"
  AutopilotPlan plan;
  AutopilotRun run;
  bool pending_align = false;
  std::optional<AutopilotPending> pending;
};

std::string EncodeAutopilotRecord(const AutopilotRecord& r);
// `key`: where the text came from (file path, etcd key), for the messages.
Result<AutopilotRecord> DecodeAutopilotRecord(std::string_view text, std::string_view key);

// Several records in one document (the single proxy's state file):
// {"v":1,"groups":{GROUP: record, ...}}.
std::string EncodeAutopilotRecords(const std::vector<AutopilotRecord>& rs);
Result<std::vector<AutopilotRecord>> DecodeAutopilotRecords(std::string_view text,
                                                            std::string_view key);

// The inverse of GateValuesToJson (domain/autopilot.h).
Result<GateValues> GateValuesFromJson(const boost::json::value& v, std::string_view path);

// A running record taken up again (after a restart, or by a new leader)
// against the route group's numbers now; `who` says why ("restart",
// "takeover by replica b"). Paused, done and aborted records are left as
// they are. For a running one:
//   - a pending change whose target the route is at: committed now (the
//     timeline gets that step once, with the gates that allowed it);
//   - the route at the run's step (the pending change never went through,
//     or none was pending): the run carries on; the step's hold time and
//     gate window start again (the numbers before are not comparable);
//   - a pending start alignment: kept (the driver applies it);
//   - the route anywhere else: paused, the reason says where the route is
//     and where the plan was ("resume or abort").
// Returns the timeline entry added (the driver audits and notifies it), if any.
std::optional<TimelineEntry> RecoverRun(AutopilotRecord& r, const AutopilotSnapshot& snap,
                                        const std::string& who);

}  // namespace ficus::proxy
