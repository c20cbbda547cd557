// EtcdControlStore: the fleet's control state (domain/control_state.h) in
// etcd v3, shared by every proxy replica; the RouteStore of `control.store:
// etcd`. Keys under `prefix` (default /ficus/):
//   routes/<name>     RouteSetting JSON (mode, percent, paused, actor, replica)
//   trips/<name>      FleetTrip JSON: an auto-fallback every replica follows
//   replicas/<id>     ReplicaReport JSON under this replica's lease (TTL 3 s)
//
// Contract:
// - Open() reads the prefix once. etcd unreachable: with `state_file` holding
//   a snapshot from an earlier run, that state is served (fail static,
//   disconnected); without, kUnavailable (the proxy refuses to start rather
//   than guess).
// - Then a Watcher (packages/etcd) follows the prefix from the revision read
//   and resumes after disconnects; every change of routes/ or trips/ updates
//   State() and calls on_change (from the watch thread; the owner posts the
//   re-apply to its own loop). A compacted watch re-reads the prefix.
// - Apply(): ONE txn for every route of the group: compare each route key's
//   mod_revision with the revision this replica has applied, then put the
//   new settings of all of them. With change.expect_revision (If-Match) the
//   group's keys are read from etcd first: the newest of them must be at that
//   revision (else kConflict at once) and the change compares against what
//   was read. A lost race is kConflict naming the winner's revision, actor
//   and replica; etcd unreachable is kUnavailable ("fail static": nothing
//   changes anywhere).
//   On success State() has the change at once (before the watch echoes it).
// - PublishTrip/ClearTrips: the fleet-wide fallback. A trip that cannot be
//   published (etcd down) is kept and published by the heartbeat once etcd
//   is back (the local trip holds on this replica meanwhile); only the first
//   trip of a route is kept in etcd. ClearTrips drops every route of a group
//   in one txn; kUnavailable when etcd is down.
// - Membership: a heartbeat thread every second puts this replica's report
//   (from `report`) under a 3 s lease and keeps the lease alive; a replica
//   that dies drops out when its lease expires. Replicas() lists the live
//   reports seen through the watch.
// - The state snapshot is written to `state_file` (atomically) after each
//   change, for the next start while etcd is down.
// Threads: every public method is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/config.h"
#include "domain/control_state.h"
#include "domain/fleet_control.h"
#include "domain/fleet_report.h"
#include "domain/route_store.h"
#include "ficus/etcd/client.h"
#include "ficus/etcd/watcher.h"

namespace ficus::proxy {

struct EtcdControlOptions {
  etcd::ClientOptions client;
  std::string prefix = "/ficus/";
  std::string replica_id;
  std::string state_file;  // "" = no snapshot: refuse to start while etcd is down
  int64_t lease_ttl_s = 3;
};

class EtcdControlStore final : public RouteStore, public FleetControl {
 public:
  using ConfigFn = std::function<std::shared_ptr<const Config>()>;
  using ReportFn = std::function<ReplicaReport()>;

  // `current`: the config the replica runs now (file + this state), for the
  // fields a change leaves alone.
  static Result<std::unique_ptr<EtcdControlStore>> Open(EtcdControlOptions options,
                                                        ConfigFn current,
                                                        std::function<void()> on_change);
  // Open() with the options of `control:` (endpoints, TLS, auth, prefix,
  // state_file) for `replica_id`; kInvalidArgument for a bad control block.
  static Result<std::unique_ptr<EtcdControlStore>> OpenFor(const Config::Control& control,
                                                           const std::string& replica_id,
                                                           ConfigFn current,
                                                           std::function<void()> on_change);
  ~EtcdControlStore() override;

  // Starts the watch and the heartbeat (call once the proxy is wired).
  void Start(ReportFn report);
  void Stop();

  Status Apply(const std::vector<std::string>& routes, const RouteChange& change) override;
  int64_t Revision(std::string_view route) const override;

  // FleetControl
  Status PublishTrip(const std::string& route, const FleetTrip& trip) override;
  Status ClearTrips(const std::vector<std::string>& routes) override;
  [[nodiscard]] ControlState State() const override;
  [[nodiscard]] std::vector<ReplicaReport> Replicas() const override;
  [[nodiscard]] bool connected() const override { return connected_.load(); }
  // Unix ms since when etcd is unreachable; 0 while connected.
  [[nodiscard]] int64_t down_since_ms() const override { return down_since_ms_.load(); }
  const EtcdControlOptions& options() const { return options_; }

 private:
  EtcdControlStore(EtcdControlOptions options, std::unique_ptr<etcd::Client> client,
                   ConfigFn current, std::function<void()> on_change);
  Status Load();  // range the prefix into state_
  void StartWatch(int64_t from);
  void OnEvents(const std::vector<etcd::Event>& events, int64_t revision);
  void SetConnected(bool up);
  void Heartbeat();
  void SaveSnapshot();
  Status CommitTrip(const std::string& route, const FleetTrip& trip);
  void PublishPendingTrips();
  // kUnavailable ("... `what` while it is down") for a transport error
  // (marks etcd down), the error itself otherwise.
  Status Unreachable(const Error& e, const std::string& what);

  EtcdControlOptions options_;
  std::unique_ptr<etcd::Client> client_;
  ConfigFn current_;
  std::function<void()> on_change_;
  ReportFn report_;

  mutable std::mutex mu_;
  ControlState state_;
  std::map<std::string, ReplicaReport, std::less<>> replicas_;
  std::map<std::string, FleetTrip> pending_trips_;  // tripped here, not yet in etcd

  std::atomic<bool> connected_{false};
  std::atomic<int64_t> down_since_ms_{0};
  std::atomic<bool> resync_{false};
  std::mutex watch_mu_;
  std::unique_ptr<etcd::Watcher> watcher_;
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread heartbeat_;
  int64_t lease_ = 0;
};

}  // namespace ficus::proxy
