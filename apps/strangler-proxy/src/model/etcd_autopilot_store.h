// EtcdAutopilotStore: the fleet's AutopilotStore (domain/autopilot_store.h)
// in etcd v3 (the JSON gateway, packages/etcd). Keys under `prefix`:
//   autopilot/leader        this replica's id, put under its lease
//   autopilot/plans/<group> the group's AutopilotRecord (domain/autopilot_state.h)
//
// Leadership (one replica drives every plan; the others follow):
// - a campaign thread grants a lease of `lease_ttl_s`, keeps it alive every
//   ttl/6 and, while not leading, tries ONE txn: "leader key absent ->
//   put it with my id under my lease" (create-if-absent). The winner leads
//   until its lease ends: a replica killed with -9 stops renewing, etcd drops
//   the key when the lease expires, and the next campaign (within ttl/6) of
//   another replica wins: a takeover within the lease TTL plus one period.
// - Leads() is true only while the last successful renewal is younger than
//   ttl - ttl/3: a leader cut off from etcd stops leading well before etcd
//   can expire its lease and let another in. Save() also compares the leader
//   key's value with this replica's id in the same txn (a fence against a
//   replica that stalled past that point): kConflict when it is not ours.
// - Stop() revokes the lease: a replica stopped with SIGTERM hands over at
//   once.
// Threads: every public method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "domain/autopilot_store.h"
#include "ficus/clock.h"
#include "ficus/etcd/client.h"

namespace ficus::proxy {

struct EtcdAutopilotOptions {
  etcd::ClientOptions client;
  std::string prefix = "/ficus/";
  std::string replica_id;
  int64_t lease_ttl_s = 3;
};

class EtcdAutopilotStore final : public AutopilotStore {
 public:
  static Result<std::unique_ptr<EtcdAutopilotStore>> Open(EtcdAutopilotOptions options);
  ~EtcdAutopilotStore() override;

  void Start();  // the campaign thread
  void Stop();   // revokes the lease (hands over at once)

  bool Leads() const override;
  std::string Leader() const override;
  Result<std::vector<AutopilotRecord>> Load() override;
  Status Save(const AutopilotRecord& record) override;

  std::string LeaderKey() const { return options_.prefix + "autopilot/leader"; }
  std::string PlanKey(const std::string& group) const {
    return options_.prefix + "autopilot/plans/" + group;
  }

 private:
  EtcdAutopilotStore(EtcdAutopilotOptions options, std::unique_ptr<etcd::Client> client)
      : options_(std::move(options)), client_(std::move(client)) {}
  void Campaign();
  void Round();

  EtcdAutopilotOptions options_;
  std::unique_ptr<etcd::Client> client_;
  mutable std::mutex mu_;
  std::string leader_;
  bool leading_ = false;
  MonoTime renewed_at_{};
  int64_t lease_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread thread_;
};

}  // namespace ficus::proxy
