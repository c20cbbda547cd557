// Proxy configuration: the one immutable struct, validated at load.
//
// Contract: ParseConfig() turns YAML text into a Config or an Error whose
// message starts with the offending key path (e.g.
// "routes[0].mode: must be one of legacy|shadow|canary|full"). Unknown keys
// are errors. A Config is never mutated after parsing; it is shared as
// std::shared_ptr<const Config> and a reload swaps that pointer.
// No I/O here: reading the file is the model layer's job.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/autopilot_plan.h"
#include "domain/forwarded.h"
#include "ficus/result.h"

namespace ficus::proxy {

enum class Mode { kLegacy, kShadow, kCanary, kFull };
std::string_view ModeName(Mode mode);

struct HostPort {
  std::string host;  // IP literal or "localhost"
  uint16_t port = 0;
  [[nodiscard]] std::string ToString() const;
};

// Upstream timeouts, each optional: the top-level `timeouts:` block (the
// defaults of every backend) and a route's `timeouts:` block (overriding
// its backends' for that route) use the backend keys' names; an unset key
// inherits.
struct TimeoutOverrides {
  std::optional<uint32_t> connect_timeout_ms, response_timeout_ms, idle_timeout_ms, send_timeout_ms,
      total_timeout_ms;
  [[nodiscard]] bool any() const {
    return connect_timeout_ms || response_timeout_ms || idle_timeout_ms || send_timeout_ms ||
           total_timeout_ms;
  }
};

struct Backend {
  std::string name;
  std::string url;  // as configured, http://host:port
  HostPort address;
  std::string health_path;  // empty: no active health check
  uint32_t health_interval_ms = 2000;
  uint32_t connect_timeout_ms = 1000;
  uint32_t response_timeout_ms = 30000;  // request sent -> first byte of the answer
  uint32_t idle_timeout_ms = 60000;      // between reads of a streamed answer body
  uint32_t send_timeout_ms = 0;          // each write of the request; 0 = response_timeout_ms
  uint32_t total_timeout_ms = 0;         // whole exchange cap; 0 = none
  uint32_t max_idle = 256;               // idle keep-alive connections per event loop
};

// Where the cohort key comes from, tried in order.
// `b` with the keys set in `o` replacing its timeouts (pure).
Backend WithTimeouts(Backend b, const TimeoutOverrides& o);

struct KeySource {
  enum class Kind { kHeader, kQuery, kJson };
  Kind kind = Kind::kHeader;
  std::string name;
};

struct Cohort {
  std::string name;
  std::vector<KeySource> key;
  std::string salt;
  [[nodiscard]] bool NeedsBody() const;
};

struct MirrorPolicy {
  uint32_t timeout_ms = 1000;
  uint32_t max_inflight = 256;  // per route, per event loop
  bool reads = false;           // canary/full: also mirror reads (shadow always does)
  bool full_to_legacy = true;   // full: mirror writes to legacy (lossless rollback)
};

// Reserved for the control plane (comparison and auto-fallback): parsed and
// validated here so the file format is stable, acted on elsewhere.
struct ComparePolicy {
  std::vector<std::string> ignore;
  // The primary's answer is kept for comparison up to this size while it
  // streams to the client; a larger one is not compared ("too large").
  uint64_t max_bytes = 1ull << 20;
  // A difference is reported only if it is still there when the user is
  // read again from both sides this long after (domain/recheck.h); up to
  // `recheck_tries` reads, one every recheck_ms. 0 = report at once.
  uint32_t recheck_ms = 1000;
  uint32_t recheck_tries = 3;
  // The read route that re-checks a write route's difference; empty: the
  // first GET route of the same cohort.
  std::string recheck_via;
};
// Auto-fallback is on for every route unless `fallback: {enabled: false}`:
// with modern dead, reads must fall back as writes do (one default for all).
struct FallbackPolicy {
  bool enabled = true;
  double error_rate = 0.05;
  uint32_t window_s = 30;
  uint32_t min_requests = 50;
};

struct Route {
  std::string name;
  std::string method;  // upper case; empty = any
  std::string path;    // exact path, or prefix when prefix == true
  bool prefix = false;
  std::string legacy_backend = "legacy";
  std::string modern_backend = "modern";
  std::string legacy_rewrite;  // empty: path unchanged
  std::string modern_rewrite;
  std::string cohort;  // empty: no cohort (canary then sends only forced requests to modern)
  Mode mode = Mode::kLegacy;
  uint32_t percent_bp = 0;    // canary share in basis points, 0..10000 (percent * 100)
  bool paused = false;        // operator pause: the route behaves as mode legacy
  bool upgrade = true;        // Upgrade requests (WebSocket...) tunnelled; false: 403
  TimeoutOverrides timeouts;  // override both backends' timeouts on this route
  MirrorPolicy mirror;
  ComparePolicy compare;
  FallbackPolicy fallback;
  // Autopilot plan for this route's group (domain/autopilot_plan.h); at most
  // one route of a group has one.
  std::optional<AutopilotPlan> autopilot;
};

struct Limits {
  uint32_t max_uri_bytes = 8192;
  uint32_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 1 << 20;
  uint64_t max_response_bytes = 64 << 20;
  uint32_t header_timeout_ms = 10000;
  uint32_t body_timeout_ms = 30000;
  uint32_t idle_timeout_ms = 60000;
};

struct Config {
  HostPort listen{"127.0.0.1", 8080};
  HostPort admin_listen{"127.0.0.1", 9901};
  std::string admin_token_file;
  std::string admin_audit_log;  // empty: <config dir>/audit.log
  // `admin.tls`: the admin listener speaks HTTPS (http::TlsFront in front of
  // the plain admin Server, which then listens on 127.0.0.1:ephemeral).
  struct AdminTls {
    bool enabled = false;
    std::string cert_file, key_file;
    std::string client_ca_file;  // "": no client certificate asked for
  } admin_tls;
  // Durable replay of mirrored writes (control plane).
  struct Replay {
    std::string dir;  // empty: <config dir>/replay
    uint64_t max_bytes = 256ull << 20;
    bool durable_to_legacy = true;  // persist writes mirrored to legacy before answering
    // Writes served by legacy (shadow, canary outside the cohort) are persisted
    // for modern before the answer unless modern already answered 2xx.
    bool durable_to_modern = true;
    // Before persisting a write whose copy is still in flight, wait up to
    // this long for the copy to land (2xx): it usually does within a moment
    // of the primary's answer, and then no fsync'd record is needed at all.
    // 0 = persist at once.
    uint32_t persist_grace_ms = 2;
    // Record an intent (one write(2) per event-loop turn, no fsync) before a
    // mirrored write leaves towards either side; replayed to both sides on
    // start unless settled: closes the window in which a proxy kill -9
    // leaves a write on one side only.
    bool intents = true;
  } replay;
  // Where the routes' operator state (mode, percent, paused, fleet-wide
  // fallback) lives: the YAML file (default, one box) or etcd shared by a
  // fleet of replicas (model/etcd_control_store.h).
  struct Control {
    enum class Store { kFile, kEtcd } store = Store::kFile;
    std::vector<std::string> endpoints;  // etcd "host:port"
    std::string prefix = "/ficus/";
    std::string replica_id;  // empty: --replica-id, else the host name
    std::string state_file;  // snapshot to start from while etcd is down ("" = refuse)
    uint32_t timeout_ms = 2000;
    // `tls:` https to etcd: the CA that signed the members' certificates
    // ("" = the system's), and the client certificate for
    // --client-cert-auth (both or neither).
    struct Tls {
      bool enabled = false;
      std::string ca_file, cert_file, key_file;
    } tls;
    // `auth:` etcd's RBAC user; the password is read from password_file.
    std::string auth_user;
    std::string auth_password_file;
  } control;
  // The binlog follower (`profile-migrator follow --metrics-listen`) whose
  // lag, events/s and last GTID the admin status and dashboard show.
  struct Cdc {
    std::string metrics_url;  // empty: no follower watched
    HostPort address;         // of metrics_url
    std::string path = "/metrics";
    uint32_t lag_warn_s = 5;  // lag above this: state lagging, dashboard warning
    uint32_t interval_ms = 1000;
    uint32_t timeout_ms = 1000;
  } cdc;
  uint32_t workers = 0;  // event loops; 0 = one per core
  std::string default_backend = "legacy";
  std::string access_log = "-";  // file path, "-" (stdout) or "off"
  uint32_t drain_timeout_ms = 10000;
  Limits limits;
  TimeoutOverrides timeouts;  // defaults of every backend (its own keys win)
  // X-Forwarded-* / Forwarded towards backends, trusted hops (forwarded.h).
  ForwardedPolicy forwarded;
  std::map<std::string, Backend> backends;
  std::map<std::string, Cohort> cohorts;
  std::vector<Route> routes;

  [[nodiscard]] const Backend* FindBackend(std::string_view name) const;
  [[nodiscard]] const Cohort* FindCohort(std::string_view name) const;
  [[nodiscard]] const Route* FindRoute(std::string_view name) const;
};

// Parses and validates. `base_dir` resolves relative paths (token file, log).
Result<std::shared_ptr<const Config>> ParseConfig(std::string_view yaml_text,
                                                  std::string_view base_dir = "");

// Parses "0", "10", "12.5", "99.99", "100" into basis points; rejects more
// than two decimals, negatives and values over 100.
Result<uint32_t> ParsePercent(std::string_view text);

}  // namespace ficus::proxy
