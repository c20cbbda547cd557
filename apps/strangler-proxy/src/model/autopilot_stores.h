// Where the autopilot keeps its plans: beside the config file
// (<config dir>/autopilot-state.json, one proxy) or, with `control.store:
// etcd`, in etcd under the control prefix, where a lease elects the one
// replica of the fleet that drives them (model/etcd_autopilot_store.h).
// kInvalidArgument for a bad control block (exit 2); etcd errors as Open's.
#pragma once

#include <memory>
#include <string>

#include "domain/autopilot_store.h"
#include "domain/config.h"
#include "ficus/result.h"
#include "model/etcd_autopilot_store.h"

namespace ficus::proxy {

struct AutopilotStores {
  std::unique_ptr<AutopilotStore> store;
  // The etcd store's leader lease: Start() once serving, Stop() at exit
  // (hands the plans over at once); nullptr with the file store.
  EtcdAutopilotStore* lease = nullptr;
};

Result<AutopilotStores> OpenAutopilotStore(const Config& cfg, const std::string& replica_id,
                                           const std::string& config_dir);

}  // namespace ficus::proxy
