#include "model/etcd_control_store.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "ficus/clock.h"
#include "model/config_writer.h"
#include "model/etcd_client_options.h"

namespace ficus::proxy {
namespace json = boost::json;

namespace {

int64_t NowMs() {
  return UnixMillis(SystemClock::WallNow());
}

// The snapshot file: {"revision":N,"routes":{name:{...,"revision":R}},"trips":{...}}.
std::string EncodeSnapshot(const ControlState& s) {
  json::object routes;
  for (const auto& [name, r] : s.routes) {
    auto v = json::parse(EncodeRouteSetting(r)).as_object();
    v["revision"] = r.revision;
    routes[name] = std::move(v);
  }
  json::object trips;
  for (const auto& [name, t] : s.trips) {
    auto v = json::parse(EncodeFleetTrip(t)).as_object();
    v["revision"] = t.revision;
    trips[name] = std::move(v);
  }
  return json::serialize(json::object{
      {"revision", s.revision}, {"routes", std::move(routes)}, {"trips", std::move(trips)}});
}

Result<ControlState> DecodeSnapshot(const std::string& text, const std::string& path) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a JSON object");
  }
  const auto& o = v.get_object();
  ControlState s;
  if (const auto* r = o.if_contains("revision"); r && r->is_int64()) s.revision = r->get_int64();
  auto rev_of = [](const json::value& x) {
    const auto* r = x.as_object().if_contains("revision");
    return r && r->is_int64() ? r->get_int64() : 0;
  };
  if (const auto* rs = o.if_contains("routes"); rs && rs->is_object()) {
    for (const auto& kv : rs->get_object()) {
      auto d = DecodeRouteSetting(json::serialize(kv.value()),
                                  path + ": routes." + std::string(kv.key()));
      if (!d) return tl::unexpected(d.error());
      d->revision = rev_of(kv.value());
      s.routes.emplace(std::string(kv.key()), std::move(*d));
    }
  }
  if (const auto* ts = o.if_contains("trips"); ts && ts->is_object()) {
    for (const auto& kv : ts->get_object()) {
      auto d =
          DecodeFleetTrip(json::serialize(kv.value()), path + ": trips." + std::string(kv.key()));
      if (!d) return tl::unexpected(d.error());
      d->revision = rev_of(kv.value());
      s.trips.emplace(std::string(kv.key()), std::move(*d));
    }
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<EtcdControlStore>> EtcdControlStore::OpenFor(
    const Config::Control& control, const std::string& replica_id, ConfigFn current,
    std::function<void()> on_change) {
  auto client = EtcdClientOptionsFor(control);
  if (!client) return tl::unexpected(client.error());
  EtcdControlOptions o;
  o.client = std::move(*client);
  o.prefix = control.prefix;
  o.replica_id = replica_id;
  o.state_file = control.state_file;
  return Open(std::move(o), std::move(current), std::move(on_change));
}

Result<std::unique_ptr<EtcdControlStore>> EtcdControlStore::Open(EtcdControlOptions options,
                                                                 ConfigFn current,
                                                                 std::function<void()> on_change) {
  if (options.prefix.empty() || options.prefix.back() != '/') options.prefix += '/';
  if (options.replica_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "control.replica_id: required with store etcd");
  }
  auto client = etcd::Client::Create(options.client);
  if (!client) {
    return MakeError(ErrorCode::kInvalidArgument, "control." + client.error().message);
  }
  std::unique_ptr<EtcdControlStore> s(new EtcdControlStore(
      std::move(options), std::move(*client), std::move(current), std::move(on_change)));
  if (auto st = s->Load(); !st) {
    if (st.error().code == ErrorCode::kInvalidArgument) {  // e.g. auth refused: not an outage
      return MakeError(ErrorCode::kInvalidArgument,
                       "control store etcd refused this replica: " + st.error().message);
    }
    if (s->options_.state_file.empty()) {
      return MakeError(ErrorCode::kUnavailable,
                       "control store etcd unreachable at start and no control.state_file "
                       "to fall back on: " +
                           st.error().message);
    }
    std::ifstream in(s->options_.state_file, std::ios::binary);
    if (!in) {
      return MakeError(ErrorCode::kUnavailable,
                       "control store etcd unreachable at start and control.state_file " +
                           s->options_.state_file + " cannot be read: " + st.error().message);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto snap = DecodeSnapshot(ss.str(), s->options_.state_file);
    if (!snap) return tl::unexpected(snap.error());
    spdlog::warn(
        "control: etcd unreachable at start ({}); serving the snapshot {} (revision {}) until it "
        "returns",
        st.error().message, s->options_.state_file, snap->revision);
    s->state_ = std::move(*snap);
    s->SetConnected(false);
  }
  return s;
}

EtcdControlStore::EtcdControlStore(EtcdControlOptions options, std::unique_ptr<etcd::Client> client,
                                   ConfigFn current, std::function<void()> on_change)
    : options_(std::move(options)),
      client_(std::move(client)),
      current_(std::move(current)),
      on_change_(std::move(on_change)) {}

EtcdControlStore::~EtcdControlStore() {
  Stop();
}

Status EtcdControlStore::Load() {
  auto r = client_->RangePrefix(options_.prefix);
  if (!r) return tl::unexpected(r.error());
  ControlState next;
  next.revision = r->revision;
  std::map<std::string, ReplicaReport, std::less<>> replicas;
  const std::string routes = options_.prefix + "routes/";
  const std::string trips = options_.prefix + "trips/";
  const std::string reps = options_.prefix + "replicas/";
  for (const auto& kv : r->kvs) {
    if (kv.key.starts_with(routes)) {
      auto d = DecodeRouteSetting(kv.value, kv.key);
      if (!d) {
        spdlog::error("control: ignoring {}: {}", kv.key, d.error().message);
        continue;
      }
      d->revision = kv.mod_revision;
      next.routes[kv.key.substr(routes.size())] = std::move(*d);
    } else if (kv.key.starts_with(trips)) {
      auto d = DecodeFleetTrip(kv.value, kv.key);
      if (!d) continue;
      d->revision = kv.mod_revision;
      next.trips[kv.key.substr(trips.size())] = std::move(*d);
    } else if (kv.key.starts_with(reps)) {
      auto d = DecodeReplicaReport(kv.value, kv.key);
      if (d) replicas[kv.key.substr(reps.size())] = std::move(*d);
    }
  }
  {
    std::lock_guard lock(mu_);
    state_ = std::move(next);
    replicas_ = std::move(replicas);
  }
  SetConnected(true);
  SaveSnapshot();
  return {};
}

void EtcdControlStore::SetConnected(bool up) {
  const bool was = connected_.exchange(up);
  if (up) {
    down_since_ms_.store(0);
    if (!was) spdlog::info("control: etcd reachable");
  } else if (was || down_since_ms_.load() == 0) {
    int64_t zero = 0;
    down_since_ms_.compare_exchange_strong(zero, NowMs());
    spdlog::warn(
        "control: etcd unreachable: serving the last known state (revision {}); admin "
        "changes are refused until it returns",
        State().revision);
  }
}

void EtcdControlStore::Start(ReportFn report) {
  report_ = std::move(report);
  StartWatch(State().revision + 1);
  heartbeat_ = std::thread([this] { Heartbeat(); });
}

void EtcdControlStore::StartWatch(int64_t from) {
  etcd::WatchCallbacks cb;
  cb.on_events = [this](const std::vector<etcd::Event>& evs, int64_t rev) { OnEvents(evs, rev); };
  cb.on_state = [this](bool up, const std::string& why) {
    if (!up) spdlog::warn("control: etcd watch: {}", why);
    SetConnected(up);
  };
  cb.on_compacted = [this](int64_t rev) {
    spdlog::warn("control: watch fell behind etcd compaction ({}): re-reading", rev);
    resync_.store(true);
  };
  etcd::WatchOptions w{options_.prefix, etcd::PrefixEnd(options_.prefix), from};
  std::lock_guard lock(watch_mu_);
  watcher_ = std::make_unique<etcd::Watcher>(options_.client, w, std::move(cb));
  watcher_->Start();
}

void EtcdControlStore::Stop() {
  stop_.store(true);
  stop_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  std::unique_ptr<etcd::Watcher> w;
  {
    std::lock_guard lock(watch_mu_);
    w = std::move(watcher_);
  }
  if (w) w->Stop();
  if (lease_) (void)client_->LeaseRevoke(lease_);  // drop out of the fleet at once
  lease_ = 0;
}

void EtcdControlStore::OnEvents(const std::vector<etcd::Event>& evs, int64_t revision) {
  const std::string routes = options_.prefix + "routes/";
  const std::string trips = options_.prefix + "trips/";
  const std::string reps = options_.prefix + "replicas/";
  bool control_changed = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : evs) {
      const bool del = e.type == etcd::Event::Type::kDelete;
      const std::string& k = e.kv.key;
      if (k.starts_with(routes)) {
        const std::string name = k.substr(routes.size());
        control_changed = true;
        if (del) {
          state_.routes.erase(name);
          continue;
        }
        auto d = DecodeRouteSetting(e.kv.value, k);
        if (!d) {
          spdlog::error("control: ignoring {}: {}", k, d.error().message);
          continue;
        }
        d->revision = e.kv.mod_revision;
        state_.routes[name] = std::move(*d);
      } else if (k.starts_with(trips)) {
        const std::string name = k.substr(trips.size());
        control_changed = true;
        if (del) {
          state_.trips.erase(name);
          continue;
        }
        auto d = DecodeFleetTrip(e.kv.value, k);
        if (!d) continue;
        d->revision = e.kv.mod_revision;
        state_.trips[name] = std::move(*d);
      } else if (k.starts_with(reps)) {
        const std::string id = k.substr(reps.size());
        if (del) {
          replicas_.erase(id);
          continue;
        }
        auto d = DecodeReplicaReport(e.kv.value, k);
        if (d) replicas_[id] = std::move(*d);
      }
    }
    state_.revision = std::max(state_.revision, revision);
  }
  if (control_changed) {
    SaveSnapshot();
    if (on_change_) on_change_();
  }
}

namespace {

// "revision R by ACTOR on replica ID": the newest write among `kvs`.
std::pair<int64_t, std::string> Newest(const std::vector<std::vector<etcd::KeyValue>>& ranges) {
  int64_t rev = 0;
  std::string who;
  for (const auto& kvs : ranges) {
    for (const auto& kv : kvs) {
      if (kv.mod_revision <= rev) continue;
      rev = kv.mod_revision;
      auto d = DecodeRouteSetting(kv.value, kv.key);
      who = d ? " by " + (d->actor.empty() ? std::string("?") : d->actor) + " on replica " +
                    d->replica
              : "";
    }
  }
  return {rev, who};
}

}  // namespace

Status EtcdControlStore::Unreachable(const Error& e, const std::string& what) {
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) {
    SetConnected(false);
    return MakeError(ErrorCode::kUnavailable, "control store (etcd) unreachable: " + what +
                                                  " while it is down; every replica keeps "
                                                  "serving the last known state (" +
                                                  e.message + ")");
  }
  return tl::unexpected(e);
}

Status EtcdControlStore::Apply(const std::vector<std::string>& names, const RouteChange& change) {
  auto cfg = current_();
  ControlState base = State();
  std::vector<std::string> keys;
  keys.reserve(names.size());
  for (const auto& name : names) keys.push_back(options_.prefix + "routes/" + name);
  if (change.expect_revision) {
    // If-Match: the revision the operator saw, perhaps on a replica that is
    // ahead of this one. Read the group's keys as etcd has them now; the
    // change is based on (and compares against) those.
    etcd::Txn read;
    for (const auto& key : keys) read.success.push_back({etcd::Op::Kind::kRange, key, "", 0, ""});
    auto now = client_->Commit(read);
    if (!now) return Unreachable(now.error(), "changes are refused");
    const auto [rev, who] = Newest(now->ranges);
    if (rev != *change.expect_revision) {
      return MakeError(ErrorCode::kConflict,
                       "route changed concurrently: revision " + std::to_string(rev) + who +
                           " is current, not If-Match " + std::to_string(*change.expect_revision) +
                           "; read the route again (GET /admin/routes/NAME, field revision) "
                           "and retry");
    }
    for (size_t i = 0; i < names.size(); ++i) {
      base.routes.erase(names[i]);
      for (const auto& kv : now->ranges[i]) {
        auto d = DecodeRouteSetting(kv.value, kv.key);
        if (!d) continue;
        d->revision = kv.mod_revision;
        base.routes[names[i]] = std::move(*d);
      }
    }
  }
  // ONE txn for the whole group: every route key must still be at the
  // revision the change is based on (0: absent), else nothing is written.
  etcd::Txn txn;
  std::vector<std::pair<std::string, RouteSetting>> next;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const Route* r = nullptr;
    for (const auto& x : cfg->routes) {
      if (x.name == name) r = &x;
    }
    if (!r) return MakeError(ErrorCode::kNotFound, "route: no route named '" + name + "'");
    RouteSetting s = ApplyChange(CurrentSetting(*r, base), change);
    s.actor = change.actor;
    s.replica = options_.replica_id;
    s.at_ms = NowMs();
    auto it = base.routes.find(name);
    const int64_t have = it == base.routes.end() ? 0 : it->second.revision;
    txn.compare.push_back({keys[i], etcd::Compare::Target::kModRevision, have, ""});
    txn.success.push_back({etcd::Op::Kind::kPut, keys[i], EncodeRouteSetting(s), 0, ""});
    txn.failure.push_back({etcd::Op::Kind::kRange, keys[i], "", 0, ""});
    next.emplace_back(name, std::move(s));
  }
  auto r = client_->Commit(txn);
  if (!r) return Unreachable(r.error(), "changes are refused");
  if (!r->succeeded) {
    const auto [rev, who] = Newest(r->ranges);  // the winner: the newest write of the group
    return MakeError(ErrorCode::kConflict,
                     "route changed concurrently: revision " + std::to_string(rev) + who +
                         " won; read the route again (GET /admin/routes/NAME, field "
                         "revision) and retry with If-Match");
  }
  {
    std::lock_guard lock(mu_);
    for (auto& [name, s] : next) {
      s.revision = r->revision;
      state_.routes[name] = s;
    }
    state_.revision = std::max(state_.revision, r->revision);
  }
  SetConnected(true);
  SaveSnapshot();
  return {};
}

int64_t EtcdControlStore::Revision(std::string_view route) const {
  std::lock_guard lock(mu_);
  auto it = state_.routes.find(route);
  return it == state_.routes.end() ? 0 : it->second.revision;
}

Status EtcdControlStore::PublishTrip(const std::string& route, const FleetTrip& trip) {
  {
    std::lock_guard lock(mu_);
    pending_trips_.emplace(route, trip);  // the first trip while etcd is away is kept
  }
  auto st = CommitTrip(route, trip);
  if (st) {
    std::lock_guard lock(mu_);
    pending_trips_.erase(route);
  }
  return st;
}

Status EtcdControlStore::CommitTrip(const std::string& route, const FleetTrip& trip) {
  const std::string key = options_.prefix + "trips/" + route;
  // Only the first trip is kept: a later one would move `since`.
  etcd::Txn txn;
  txn.compare.push_back({key, etcd::Compare::Target::kModRevision, 0, ""});
  txn.success.push_back({etcd::Op::Kind::kPut, key, EncodeFleetTrip(trip), 0, ""});
  auto r = client_->Commit(txn);
  if (!r) return tl::unexpected(r.error());
  return {};
}

void EtcdControlStore::PublishPendingTrips() {
  std::map<std::string, FleetTrip> pending;
  {
    std::lock_guard lock(mu_);
    pending = pending_trips_;
  }
  for (const auto& [route, trip] : pending) {
    if (!CommitTrip(route, trip)) return;  // still down: next heartbeat
    spdlog::warn(
        "control: fallback of {} (tripped here while etcd was away) published to the fleet", route);
    std::lock_guard lock(mu_);
    pending_trips_.erase(route);
  }
}

Status EtcdControlStore::ClearTrips(const std::vector<std::string>& routes) {
  etcd::Txn txn;
  for (const auto& route : routes) {
    txn.success.push_back({etcd::Op::Kind::kDelete, options_.prefix + "trips/" + route, "", 0, ""});
  }
  auto r = client_->Commit(txn);
  if (!r) return Unreachable(r.error(), "the fleet-wide fallback cannot be reset");
  std::lock_guard lock(mu_);
  for (const auto& route : routes) {
    state_.trips.erase(route);
    pending_trips_.erase(route);
  }
  return {};
}

ControlState EtcdControlStore::State() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::vector<ReplicaReport> EtcdControlStore::Replicas() const {
  std::lock_guard lock(mu_);
  std::vector<ReplicaReport> out;
  for (const auto& [id, r] : replicas_) out.push_back(r);
  return out;
}

void EtcdControlStore::SaveSnapshot() {
  if (options_.state_file.empty()) return;
  const std::string text = EncodeSnapshot(State());
  if (auto st = WriteFileAtomically(options_.state_file, text); !st) {
    spdlog::error("control: state snapshot {}: {}", options_.state_file, st.error().message);
  }
}

void EtcdControlStore::Heartbeat() {
  const std::string key = options_.prefix + "replicas/" + options_.replica_id;
  while (!stop_.load()) {
    if (resync_.exchange(false)) {
      std::unique_ptr<etcd::Watcher> old;
      {
        std::lock_guard lock(watch_mu_);
        old = std::move(watcher_);
      }
      if (old) old->Stop();
      if (Load()) {
        if (on_change_) on_change_();
        StartWatch(State().revision + 1);
      } else {
        resync_.store(true);
      }
    }
    bool ok = true;
    PublishPendingTrips();
    if (!lease_) {
      auto l = client_->LeaseGrant(options_.lease_ttl_s);
      if (l) lease_ = l->id;
      ok = l.has_value();
    } else {
      auto k = client_->LeaseKeepAlive(lease_);
      if (!k) {
        ok = k.error().code == ErrorCode::kNotFound;
        lease_ = 0;  // expired (we were away too long) or etcd down: grant anew
      }
    }
    if (lease_ && report_) {
      ReplicaReport rep = report_();
      rep.id = options_.replica_id;
      rep.at_ms = NowMs();
      ok = client_->Put(key, EncodeReplicaReport(rep), lease_).has_value() && ok;
    }
    // The watch says when etcd is back; a failing heartbeat says it is gone
    // even when no watch event is due.
    if (!ok) SetConnected(false);
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
  }
}

}  // namespace ficus::proxy
