#include "model/autopilot_stores.h"

#include "model/autopilot_file_store.h"
#include "model/etcd_client_options.h"

namespace ficus::proxy {

Result<AutopilotStores> OpenAutopilotStore(const Config& cfg, const std::string& replica_id,
                                           const std::string& config_dir) {
  AutopilotStores out;
  if (cfg.control.store != Config::Control::Store::kEtcd) {
    out.store = std::make_unique<AutopilotFileStore>(config_dir + "/autopilot-state.json");
    return out;
  }
  auto client = EtcdClientOptionsFor(cfg.control);
  if (!client) return tl::unexpected(client.error());
  EtcdAutopilotOptions o;
  o.client = std::move(*client);
  o.prefix = cfg.control.prefix;
  o.replica_id = replica_id;
  auto st = EtcdAutopilotStore::Open(std::move(o));
  if (!st) return tl::unexpected(st.error());
  out.lease = st->get();
  out.store = std::move(*st);
  return out;
}

}  // namespace ficus::proxy
