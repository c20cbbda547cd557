#include "ficus/etcd/watcher.h"

#include <boost/json.hpp>
#include <chrono>

#include "ficus/http/sync_client.h"
#include "json_codec.h"

namespace ficus::etcd {
namespace json = boost::json;

Watcher::Watcher(ClientOptions client, WatchOptions watch, WatchCallbacks callbacks)
    : client_(std::move(client)), watch_(std::move(watch)), cb_(std::move(callbacks)) {
  if (watch_.start_revision > 0) last_revision_.store(watch_.start_revision - 1);
}

Watcher::~Watcher() {
  Stop();
}

void Watcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Watcher::Stop() {
  stop_.store(true);
  {
    std::lock_guard lock(conn_mu_);
    if (conn_) conn_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

void Watcher::Run() {
  auto backoff = std::chrono::milliseconds(50);
  size_t next = 0;
  while (!stop_.load() && !compacted_.load()) {
    const std::string endpoint = client_.endpoints[next % client_.endpoints.size()];
    const auto before = last_revision_.load();
    const bool was_connected = connected_.load();
    RunOnce(endpoint);
    if (stop_.load() || compacted_.load()) break;
    if (connected_.exchange(false) || was_connected) {
      if (cb_.on_state) cb_.on_state(false, "watch stream on " + endpoint + " ended");
    }
    ++next;
    if (last_revision_.load() != before) backoff = std::chrono::milliseconds(50);
    // Sleep in slices so Stop() stays prompt.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (!stop_.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

void Watcher::RunOnce(const std::string& endpoint) {
  auto hp = ParseEndpoint(endpoint, "endpoint");
  if (!hp) return;
  http::SyncClientOptions o;
  o.host = hp->first;
  o.port = hp->second;
  o.timeout = client_.timeout;
  o.tls = client_.tls;
  http::SyncClient conn(o);
  {
    std::lock_guard lock(conn_mu_);
    if (stop_.load()) return;
    conn_ = &conn;
  }
  std::string token;
  if (!client_.user.empty()) {  // a fresh token per stream: the old one may have expired
    auto t = Authenticate(conn, client_, endpoint);
    if (!t) {
      // Said once per new reason (not every retry); connectedness is lost.
      connected_.store(false);
      if (t.error().message != last_auth_error_ && cb_.on_state) {
        cb_.on_state(false, t.error().message);
      }
      last_auth_error_ = t.error().message;
      std::lock_guard lock(conn_mu_);
      conn_ = nullptr;
      return;
    }
    token = std::move(*t);
    last_auth_error_.clear();
  }
  json::object create{{"key", codec::Base64Encode(watch_.key)}};
  if (!watch_.range_end.empty()) create["range_end"] = codec::Base64Encode(watch_.range_end);
  const int64_t from = last_revision_.load() + 1;
  if (from > 1) create["start_revision"] = std::to_string(from);
  create["progress_notify"] = true;
  http::Request req;
  req.method = "POST";
  req.verb = boost::beast::http::verb::post;
  req.target = "/v3/watch";
  req.headers.Add("Content-Type", "application/json");
  if (!token.empty()) req.headers.Add("Authorization", token);
  req.body = json::serialize(json::object{{"create_request", std::move(create)}});
  std::string pending;
  bool ok = true;
  auto r = conn.Stream(req, [&](std::string_view data) {
    pending.append(data);
    size_t start = 0;
    for (;;) {
      const auto nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      if (nl > start && !Handle(std::string_view(pending).substr(start, nl - start))) {
        ok = false;
        return false;
      }
      start = nl + 1;
    }
    pending.erase(0, start);
    if (pending.size() > (64u << 20)) return false;  // a message that never ends
    return !stop_.load();
  });
  (void)r;
  (void)ok;
  std::lock_guard lock(conn_mu_);
  conn_ = nullptr;
}

bool Watcher::Handle(std::string_view line) {
  boost::system::error_code ec;
  auto v = json::parse(line, ec);
  if (ec || !v.is_object()) return false;
  const auto& top = v.get_object();
  if (top.contains("error")) return false;
  const auto* res = top.if_contains("result");
  if (!res || !res->is_object()) return false;
  const auto& o = res->get_object();
  const int64_t compact = codec::Int(o, "compact_revision");
  if (compact > 0) {
    compacted_.store(true);
    if (cb_.on_compacted) cb_.on_compacted(compact);
    return false;
  }
  if (const auto* c = o.if_contains("canceled"); c && c->is_bool() && c->get_bool()) return false;
  if (const auto* c = o.if_contains("created"); c && c->is_bool() && c->get_bool()) {
    if (!connected_.exchange(true) && cb_.on_state) cb_.on_state(true, "watching");
    return true;
  }
  const auto* evs = o.if_contains("events");
  if (!evs || !evs->is_array() || evs->get_array().empty()) return true;  // progress notify
  // One message may carry several revisions; deliver one batch per revision.
  std::vector<Event> batch;
  int64_t batch_rev = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    if (batch_rev > last_revision_.load()) {
      if (cb_.on_events) cb_.on_events(batch, batch_rev);
      last_revision_.store(batch_rev);
    }
    batch.clear();
  };
  for (const auto& e : evs->get_array()) {
    if (!e.is_object()) continue;
    const auto& eo = e.get_object();
    Event ev;
    if (const auto* t = eo.if_contains("type");
        t && t->is_string() && t->get_string() == "DELETE") {
      ev.type = Event::Type::kDelete;
    }
    const auto* kv = eo.if_contains("kv");
    if (!kv || !kv->is_object()) continue;
    auto p = codec::ParseKv(kv->get_object());
    if (!p) return false;
    ev.kv = std::move(*p);
    if (ev.kv.mod_revision != batch_rev) flush();
    batch_rev = ev.kv.mod_revision;
    batch.push_back(std::move(ev));
  }
  flush();
  return true;
}

}  // namespace ficus::etcd
