// AutopilotStore: where autopilot runs are kept outside the process, and
// who drives them (role interface).
//
// - model/autopilot_file_store.h: a single proxy. One JSON document
//   (domain/autopilot_state.h) in a file beside the config, replaced
//   atomically (write temp, fsync, rename, fsync dir). This process always
//   leads.
// - model/etcd_autopilot_store.h: a fleet (control.store etcd). One key per
//   group; exactly one replica leads, by an etcd lease on a leader key; the
//   others follow (Load() shows them the leader's state).
//
// Contract:
// - Leads(): true while this process may drive plans. A leader that cannot
//   renew its lease stops leading BEFORE the lease can expire in etcd, so
//   two replicas never drive at once (a stalled one that wakes up past that
//   is fenced: its Save() fails kConflict).
// - Load(): every kept record (kUnavailable when the store cannot be read,
//   kInvalidArgument naming the key for one that cannot be decoded).
// - Save(): durable before they return; only the leader writes
//   (kConflict when this process does not lead). kUnavailable when the store
//   cannot be reached: the driver then holds (it does not move a route whose
//   run it could not record).
// - Leader(): the leading replica's id ("" unknown), for "ask there".
// Threads: every method is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "domain/autopilot_state.h"
#include "ficus/result.h"

namespace ficus::proxy {

class AutopilotStore {
 public:
  virtual ~AutopilotStore() = default;
  virtual bool Leads() const = 0;
  virtual std::string Leader() const = 0;
  virtual Result<std::vector<AutopilotRecord>> Load() = 0;
  virtual Status Save(const AutopilotRecord& record) = 0;
};

}  // namespace ficus::proxy
