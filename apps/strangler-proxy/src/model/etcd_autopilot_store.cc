#include "model/etcd_autopilot_store.h"

#include <spdlog/spdlog.h>

namespace ficus::proxy {

Result<std::unique_ptr<EtcdAutopilotStore>> EtcdAutopilotStore::Open(EtcdAutopilotOptions options) {
  if (options.replica_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "control.replica_id: needed for the autopilot");
  }
  if (options.lease_ttl_s < 2) {
    return MakeError(ErrorCode::kInvalidArgument, "autopilot lease ttl: at least 2 s");
  }
  auto client = etcd::Client::Create(options.client);
  if (!client) return tl::unexpected(client.error());
  return std::unique_ptr<EtcdAutopilotStore>(
      new EtcdAutopilotStore(std::move(options), std::move(*client)));
}

EtcdAutopilotStore::~EtcdAutopilotStore() {
  Stop();
}

void EtcdAutopilotStore::Start() {
  thread_ = std::thread([this] { Campaign(); });
}

void EtcdAutopilotStore::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    if (stop_.exchange(true)) return;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  int64_t lease = 0;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
    leading_ = false;
    lease_ = 0;
  }
  if (lease) (void)client_->LeaseRevoke(lease);  // the leader key goes with it
}

bool EtcdAutopilotStore::Leads() const {
  std::lock_guard lock(mu_);
  if (!leading_) return false;
  const auto valid = std::chrono::seconds(options_.lease_ttl_s) -
                     std::chrono::milliseconds(options_.lease_ttl_s * 1000 / 3);
  return SystemClock::MonoNow() - renewed_at_ < valid;
}

std::string EtcdAutopilotStore::Leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void EtcdAutopilotStore::Campaign() {
  const auto period = std::chrono::milliseconds(options_.lease_ttl_s * 1000 / 6);
  while (!stop_) {
    Round();
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait_for(lock, period, [this] { return stop_.load(); });
  }
}

void EtcdAutopilotStore::Round() {
  int64_t lease = 0;
  bool leading = false;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
    leading = leading_;
  }
  const auto asked = SystemClock::MonoNow();  // a renewal counts from when it was asked
  if (lease == 0) {
    auto g = client_->LeaseGrant(options_.lease_ttl_s);
    if (!g) {
      spdlog::warn("autopilot: etcd lease: {}", g.error().message);
      return;
    }
    lease = g->id;
    std::lock_guard lock(mu_);
    lease_ = lease;
    renewed_at_ = asked;
  } else {
    auto k = client_->LeaseKeepAlive(lease);
    std::lock_guard lock(mu_);
    if (k) {
      renewed_at_ = asked;
    } else if (k.error().code == ErrorCode::kNotFound) {
      // Expired (we were cut off too long): the leader key went with it.
      if (leading_) spdlog::warn("autopilot: lease expired: this replica no longer leads");
      lease_ = 0;
      leading_ = false;
      return;
    } else {
      if (leading_ &&
          SystemClock::MonoNow() - renewed_at_ > std::chrono::seconds(options_.lease_ttl_s) / 2) {
        spdlog::warn("autopilot: lease not renewed: {}", k.error().message);
      }
      return;
    }
  }
  if (leading) return;
  etcd::Txn txn;
  txn.compare.push_back({LeaderKey(), etcd::Compare::Target::kModRevision, 0, ""});
  txn.success.push_back({etcd::Op::Kind::kPut, LeaderKey(), options_.replica_id, lease, ""});
  txn.failure.push_back({etcd::Op::Kind::kRange, LeaderKey(), "", 0, ""});
  auto r = client_->Commit(txn);
  if (!r) return;
  std::lock_guard lock(mu_);
  if (r->succeeded) {
    leading_ = true;
    leader_ = options_.replica_id;
    spdlog::info("autopilot: replica {} leads (lease {:x}, ttl {} s)", options_.replica_id, lease,
                 options_.lease_ttl_s);
    return;
  }
  if (!r->ranges.empty() && !r->ranges[0].empty()) {
    const auto& kv = r->ranges[0][0];
    leader_ = kv.value;
    if (kv.value == options_.replica_id && kv.lease == lease) leading_ = true;
  }
}

Result<std::vector<AutopilotRecord>> EtcdAutopilotStore::Load() {
  const std::string prefix = options_.prefix + "autopilot/plans/";
  auto rr = client_->RangePrefix(prefix);
  if (!rr) return tl::unexpected(rr.error());
  std::vector<AutopilotRecord> out;
  for (const auto& kv : rr->kvs) {
    auto rec = DecodeAutopilotRecord(kv.value, kv.key);
    if (!rec) return tl::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
  return out;
}

Status EtcdAutopilotStore::Save(const AutopilotRecord& record) {
  if (!Leads()) {
    return MakeError(ErrorCode::kConflict, "autopilot: replica " + options_.replica_id +
                                               " does not lead (leader: " + Leader() + ")");
  }
  etcd::Txn txn;
  txn.compare.push_back({LeaderKey(), etcd::Compare::Target::kValue, 0, options_.replica_id});
  txn.success.push_back(
      {etcd::Op::Kind::kPut, PlanKey(record.group), EncodeAutopilotRecord(record), 0, ""});
  auto r = client_->Commit(txn);
  if (!r) return tl::unexpected(r.error());
  if (!r->succeeded) {
    std::lock_guard lock(mu_);
    leading_ = false;
    return MakeError(ErrorCode::kConflict, "autopilot: replica " + options_.replica_id +
                                               " lost the lead before saving group " +
                                               record.group);
  }
  return {};
}

}  // namespace ficus::proxy
