// Watcher: a streaming etcd v3 watch (POST /v3/watch on the JSON gateway)
// of one key range, on its own thread, that survives member failures.
//
// Contract:
// - Start() returns at once; the thread connects to the endpoints in turn and
//   delivers every change with revision >= start_revision to on_events, in
//   revision order, each batch with its revision (all events of one etcd
//   revision arrive in the same batch). After a disconnect it reconnects
//   (another member if need be, backoff 50 ms doubling to 1 s) and resumes
//   at last delivered revision + 1: no event is lost or repeated.
// - on_state(connected) reports each change of connectedness (first
//   connect, loss, reconnect) so the owner can say "since when".
// - If etcd compacted past the revision to resume from, on_compacted(rev)
//   is called and the watcher stops: the owner must read the range again
//   and start a new watcher (events in between are gone).
// - TLS and auth as the Client (client.h): a token is fetched for each
//   stream; an authentication failure is reported through on_state(false,
//   why) once per distinct reason and retried with the backoff.
// - Callbacks run on the watcher's thread, one at a time; they must not call
//   Stop(). Stop() (or the destructor) joins the thread within ~200 ms.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ficus/etcd/client.h"

namespace ficus::http {
class SyncClient;
}

namespace ficus::etcd {

struct Event {
  enum class Type { kPut, kDelete } type = Type::kPut;
  KeyValue kv;  // for kDelete: key and mod_revision only
};

struct WatchOptions {
  std::string key;
  std::string range_end;       // PrefixEnd(prefix) to watch a prefix
  int64_t start_revision = 0;  // 0 = from now
};

struct WatchCallbacks {
  std::function<void(const std::vector<Event>&, int64_t revision)> on_events;
  std::function<void(bool connected, const std::string& why)> on_state;
  std::function<void(int64_t compact_revision)> on_compacted;
};

class Watcher {
 public:
  Watcher(ClientOptions client, WatchOptions watch, WatchCallbacks callbacks);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void Start();
  void Stop();
  // The revision the watch resumes after (last delivered batch).
  int64_t revision() const { return last_revision_.load(); }
  bool connected() const { return connected_.load(); }

 private:
  void Run();
  // One stream on one endpoint; returns when it breaks.
  void RunOnce(const std::string& endpoint);
  bool Handle(std::string_view line);  // false: stop this stream

  ClientOptions client_;
  WatchOptions watch_;
  WatchCallbacks cb_;
  std::atomic<int64_t> last_revision_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> compacted_{false};
  std::mutex conn_mu_;
  http::SyncClient* conn_ = nullptr;  // the stream in progress (for Stop)
  std::thread thread_;
  std::string last_auth_error_;  // watcher thread only
};

}  // namespace ficus::etcd
