#include "domain/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <set>

namespace ficus::proxy {
namespace {

// Validation failure carrying its key path; converted to an Error at the edge
// of ParseConfig (yaml-cpp itself throws, so this file is exception-based
// internally and exception-free at its interface).
struct ConfigError {
  std::string path;
  std::string message;
};

[[noreturn]] void Fail(const std::string& path, const std::string& message) {
  throw ConfigError{path, message};
}

// A YAML subtree as JSON (plain scalars that read as numbers or booleans
// become numbers or booleans; quoted ones stay strings), for the parts of the
// config that the admin API also takes as JSON (the autopilot plan).
boost::json::value YamlToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    boost::json::object o;
    for (const auto& kv : node) o[kv.first.as<std::string>()] = YamlToJson(kv.second);
    return o;
  }
  if (node.IsSequence()) {
    boost::json::array a;
    for (const auto& x : node) a.push_back(YamlToJson(x));
    return a;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string& s = node.Scalar();
  if (node.Tag() == "?") {
    if (s == "true") return true;
    if (s == "false") return false;
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return boost::json::string(s);
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void ExpectMap(const YAML::Node& node, const std::string& path,
               std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) Fail(path, "must be a mapping");
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : "|") + std::string(a);
      Fail(Join(path, key), "unknown key (allowed: " + list + ")");
    }
  }
}

std::string Scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) Fail(path, "must be a scalar");
  return node.Scalar();
}

std::string NonEmpty(const YAML::Node& node, const std::string& path) {
  auto s = Scalar(node, path);
  if (s.empty()) Fail(path, "must not be empty");
  return s;
}

uint64_t Unsigned(const YAML::Node& node, const std::string& path, uint64_t min, uint64_t max) {
  const auto s = Scalar(node, path);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) Fail(path, "must be an unsigned integer");
  if (v < min || v > max) {
    Fail(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

bool Bool(const YAML::Node& node, const std::string& path) {
  const auto s = Scalar(node, path);
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(path, "must be true or false");
}

double Fraction(const YAML::Node& node, const std::string& path) {
  const auto s = Scalar(node, path);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 1) {
    Fail(path, "must be a number between 0 and 1");
  }
  return v;
}

HostPort ParseHostPort(const std::string& s, const std::string& path) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) Fail(path, "must be host:port");
  HostPort hp;
  hp.host = s.substr(0, colon);
  const auto port = s.substr(colon + 1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || p != port.data() + port.size() || v > 65535 || port.empty()) {
    Fail(path, "port must be 0..65535");
  }
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

std::string Path(const YAML::Node& node, const std::string& path) {
  auto s = NonEmpty(node, path);
  if (s[0] != '/') Fail(path, "must start with '/'");
  if (s.find_first_of("?# \t\r\n") != std::string::npos) {
    Fail(path, "must be a plain path (no query, fragment or whitespace)");
  }
  return s;
}

uint32_t Ms(const YAML::Node& node, const std::string& path) {
  return static_cast<uint32_t>(Unsigned(node, path, 1, 3600UL * 1000));
}

// Reads the timeout keys present in `node` (a backend, a route's or the
// top-level `timeouts:` block).
TimeoutOverrides ParseTimeoutKeys(const YAML::Node& node, const std::string& path) {
  TimeoutOverrides o;
  if (node["connect_timeout_ms"]) {
    o.connect_timeout_ms = Ms(node["connect_timeout_ms"], Join(path, "connect_timeout_ms"));
  }
  if (node["response_timeout_ms"]) {
    o.response_timeout_ms = Ms(node["response_timeout_ms"], Join(path, "response_timeout_ms"));
  }
  if (node["idle_timeout_ms"]) {
    o.idle_timeout_ms = Ms(node["idle_timeout_ms"], Join(path, "idle_timeout_ms"));
  }
  if (node["send_timeout_ms"]) {
    o.send_timeout_ms = Ms(node["send_timeout_ms"], Join(path, "send_timeout_ms"));
  }
  if (node["total_timeout_ms"]) {  // 0: no cap
    o.total_timeout_ms = static_cast<uint32_t>(
        Unsigned(node["total_timeout_ms"], Join(path, "total_timeout_ms"), 0, 24UL * 3600 * 1000));
  }
  return o;
}

TimeoutOverrides ParseTimeouts(const YAML::Node& node, const std::string& path) {
  ExpectMap(node, path,
            {"connect_timeout_ms", "response_timeout_ms", "idle_timeout_ms", "send_timeout_ms",
             "total_timeout_ms"});
  return ParseTimeoutKeys(node, path);
}

Backend ParseBackend(const std::string& name, const YAML::Node& node, const std::string& path,
                     const TimeoutOverrides& defaults) {
  ExpectMap(node, path,
            {"url", "health", "health_interval_ms", "connect_timeout_ms", "response_timeout_ms",
             "idle_timeout_ms", "send_timeout_ms", "total_timeout_ms", "max_idle"});
  Backend b = WithTimeouts(Backend{}, defaults);
  b.name = name;
  if (!node["url"]) Fail(Join(path, "url"), "is required");
  b.url = NonEmpty(node["url"], Join(path, "url"));
  constexpr std::string_view kScheme = "http://";
  if (b.url.rfind(kScheme, 0) != 0) Fail(Join(path, "url"), "must start with http://");
  auto rest = b.url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) Fail(Join(path, "url"), "must not contain a path");
  b.address = ParseHostPort(rest, Join(path, "url"));
  if (b.address.port == 0) Fail(Join(path, "url"), "port must be 1..65535");
  if (node["health"]) b.health_path = Path(node["health"], Join(path, "health"));
  if (node["health_interval_ms"]) {
    b.health_interval_ms = Ms(node["health_interval_ms"], Join(path, "health_interval_ms"));
  }
  b = WithTimeouts(std::move(b), ParseTimeoutKeys(node, path));
  if (node["max_idle"]) {
    b.max_idle =
        static_cast<uint32_t>(Unsigned(node["max_idle"], Join(path, "max_idle"), 0, 65536));
  }
  return b;
}

Cohort ParseCohort(const std::string& name, const YAML::Node& node, const std::string& path) {
  ExpectMap(node, path, {"key", "salt"});
  Cohort c;
  c.name = name;
  const auto key_path = Join(path, "key");
  const auto& key = node["key"];
  if (!key) Fail(key_path, "is required");
  if (!key.IsSequence() || key.size() == 0) Fail(key_path, "must be a non-empty list");
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto item_path = key_path + "[" + std::to_string(i) + "]";
    const auto s = NonEmpty(key[i], item_path);
    const auto colon = s.find(':');
    const auto kind = s.substr(0, colon);
    KeySource src;
    if (kind == "header") {
      src.kind = KeySource::Kind::kHeader;
    } else if (kind == "query") {
      src.kind = KeySource::Kind::kQuery;
    } else if (kind == "json") {
      src.kind = KeySource::Kind::kJson;
    } else {
      Fail(item_path, "must be header:NAME, query:NAME or json:NAME");
    }
    if (colon == std::string::npos || colon + 1 == s.size()) Fail(item_path, "missing NAME");
    src.name = s.substr(colon + 1);
    c.key.push_back(std::move(src));
  }
  if (!node["salt"]) Fail(Join(path, "salt"), "is required");
  c.salt = Scalar(node["salt"], Join(path, "salt"));
  return c;
}

Mode ParseMode(const YAML::Node& node, const std::string& path) {
  const auto s = Scalar(node, path);
  if (s == "legacy") return Mode::kLegacy;
  if (s == "shadow") return Mode::kShadow;
  if (s == "canary") return Mode::kCanary;
  if (s == "full") return Mode::kFull;
  Fail(path, "must be one of legacy|shadow|canary|full");
}

MirrorPolicy ParseMirror(const YAML::Node& node, const std::string& path, MirrorPolicy m) {
  ExpectMap(node, path, {"timeout_ms", "max_inflight", "reads", "full_to_legacy"});
  if (node["timeout_ms"]) m.timeout_ms = Ms(node["timeout_ms"], Join(path, "timeout_ms"));
  if (node["max_inflight"]) {
    m.max_inflight = static_cast<uint32_t>(
        Unsigned(node["max_inflight"], Join(path, "max_inflight"), 0, 1 << 20));
  }
  if (node["reads"]) m.reads = Bool(node["reads"], Join(path, "reads"));
  if (node["full_to_legacy"]) {
    m.full_to_legacy = Bool(node["full_to_legacy"], Join(path, "full_to_legacy"));
  }
  return m;
}

Route ParseRoute(const YAML::Node& node, const std::string& path, const Config& cfg,
                 const MirrorPolicy& mirror_defaults) {
  ExpectMap(node, path,
            {"name", "match", "backends", "rewrite", "cohort", "mode", "percent", "paused",
             "mirror", "compare", "fallback", "upgrade", "autopilot", "timeouts"});
  Route r;
  if (!node["name"]) Fail(Join(path, "name"), "is required");
  r.name = NonEmpty(node["name"], Join(path, "name"));
  for (char ch : r.name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) {
      Fail(Join(path, "name"), "may contain only [A-Za-z0-9._-]");
    }
  }

  const auto match_path = Join(path, "match");
  const auto& match = node["match"];
  if (!match) Fail(match_path, "is required");
  ExpectMap(match, match_path, {"method", "path", "prefix"});
  if (match["method"]) {
    r.method = NonEmpty(match["method"], Join(match_path, "method"));
    static const std::set<std::string> kMethods = {"GET",    "HEAD",    "POST",  "PUT",
                                                   "DELETE", "OPTIONS", "PATCH", "*"};
    std::transform(r.method.begin(), r.method.end(), r.method.begin(), ::toupper);
    if (!kMethods.count(r.method)) {
      Fail(Join(match_path, "method"), "must be one of GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|*");
    }
    if (r.method == "*") r.method.clear();
  }
  if (match["path"] && match["prefix"]) Fail(match_path, "give either path or prefix, not both");
  if (match["path"]) {
    r.path = Path(match["path"], Join(match_path, "path"));
  } else if (match["prefix"]) {
    r.path = Path(match["prefix"], Join(match_path, "prefix"));
    r.prefix = true;
  } else {
    Fail(match_path, "needs path or prefix");
  }

  if (node["backends"]) {
    const auto bp = Join(path, "backends");
    ExpectMap(node["backends"], bp, {"legacy", "modern"});
    if (node["backends"]["legacy"]) {
      r.legacy_backend = NonEmpty(node["backends"]["legacy"], Join(bp, "legacy"));
    }
    if (node["backends"]["modern"]) {
      r.modern_backend = NonEmpty(node["backends"]["modern"], Join(bp, "modern"));
    }
  }
  if (!cfg.FindBackend(r.legacy_backend)) {
    Fail(Join(path, "backends.legacy"), "unknown backend '" + r.legacy_backend + "'");
  }

  if (node["rewrite"]) {
    const auto rp = Join(path, "rewrite");
    ExpectMap(node["rewrite"], rp, {"legacy", "modern"});
    if (node["rewrite"]["legacy"])
      r.legacy_rewrite = Path(node["rewrite"]["legacy"], Join(rp, "legacy"));
    if (node["rewrite"]["modern"])
      r.modern_rewrite = Path(node["rewrite"]["modern"], Join(rp, "modern"));
  }
  if (node["cohort"]) {
    r.cohort = NonEmpty(node["cohort"], Join(path, "cohort"));
    if (!cfg.FindCohort(r.cohort)) Fail(Join(path, "cohort"), "unknown cohort '" + r.cohort + "'");
  }
  if (node["mode"]) r.mode = ParseMode(node["mode"], Join(path, "mode"));
  if (node["percent"]) {
    auto p = ParsePercent(Scalar(node["percent"], Join(path, "percent")));
    if (!p) Fail(Join(path, "percent"), p.error().message);
    r.percent_bp = *p;
  }
  if (node["paused"]) r.paused = Bool(node["paused"], Join(path, "paused"));
  if (r.mode != Mode::kLegacy && !cfg.FindBackend(r.modern_backend)) {
    Fail(Join(path, "backends.modern"), "unknown backend '" + r.modern_backend +
                                            "' (needed by mode " + std::string(ModeName(r.mode)) +
                                            ")");
  }
  r.mirror = mirror_defaults;
  if (node["mirror"]) r.mirror = ParseMirror(node["mirror"], Join(path, "mirror"), mirror_defaults);
  if (node["compare"]) {
    const auto cp = Join(path, "compare");
    ExpectMap(node["compare"], cp,
              {"ignore", "max_bytes", "recheck_ms", "recheck_tries", "recheck_via"});
    if (node["compare"]["recheck_ms"]) {
      r.compare.recheck_ms = static_cast<uint32_t>(
          Unsigned(node["compare"]["recheck_ms"], Join(cp, "recheck_ms"), 0, 60000));
    }
    if (node["compare"]["recheck_tries"]) {
      r.compare.recheck_tries = static_cast<uint32_t>(
          Unsigned(node["compare"]["recheck_tries"], Join(cp, "recheck_tries"), 1, 10));
    }
    if (node["compare"]["recheck_via"]) {
      r.compare.recheck_via = NonEmpty(node["compare"]["recheck_via"], Join(cp, "recheck_via"));
    }
    if (node["compare"]["max_bytes"]) {
      r.compare.max_bytes =
          Unsigned(node["compare"]["max_bytes"], Join(cp, "max_bytes"), 0, 1ull << 30);
    }
    const auto& ig = node["compare"]["ignore"];
    if (ig) {
      if (!ig.IsSequence()) Fail(Join(cp, "ignore"), "must be a list");
      for (std::size_t i = 0; i < ig.size(); ++i) {
        r.compare.ignore.push_back(
            NonEmpty(ig[i], Join(cp, "ignore") + "[" + std::to_string(i) + "]"));
      }
    }
  }
  if (node["upgrade"]) r.upgrade = Bool(node["upgrade"], Join(path, "upgrade"));
  if (node["autopilot"]) {
    auto plan = ParseAutopilotPlan(YamlToJson(node["autopilot"]), Join(path, "autopilot"));
    if (!plan) throw ConfigError{"", plan.error().message};
    r.autopilot = std::move(*plan);
  }
  if (node["timeouts"]) r.timeouts = ParseTimeouts(node["timeouts"], Join(path, "timeouts"));
  if (node["fallback"]) {
    const auto fp = Join(path, "fallback");
    ExpectMap(node["fallback"], fp, {"enabled", "error_rate", "window_s", "min_requests"});
    const auto& f = node["fallback"];
    r.fallback.enabled = true;
    if (f["enabled"]) r.fallback.enabled = Bool(f["enabled"], Join(fp, "enabled"));
    if (f["error_rate"]) r.fallback.error_rate = Fraction(f["error_rate"], Join(fp, "error_rate"));
    if (f["window_s"]) {
      r.fallback.window_s =
          static_cast<uint32_t>(Unsigned(f["window_s"], Join(fp, "window_s"), 1, 3600));
    }
    if (f["min_requests"]) {
      r.fallback.min_requests =
          static_cast<uint32_t>(Unsigned(f["min_requests"], Join(fp, "min_requests"), 0, 1u << 30));
    }
  }
  return r;
}

Config::Cdc ParseCdc(const YAML::Node& node) {
  ExpectMap(node, "cdc", {"metrics_url", "lag_warn_s", "interval_ms", "timeout_ms"});
  Config::Cdc c;
  if (!node["metrics_url"]) {
    Fail("cdc.metrics_url", "is required (http://host:port/metrics of profile-migrator follow)");
  }
  c.metrics_url = NonEmpty(node["metrics_url"], "cdc.metrics_url");
  constexpr std::string_view kScheme = "http://";
  if (!c.metrics_url.starts_with(kScheme)) Fail("cdc.metrics_url", "must start with http://");
  auto rest = c.metrics_url.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    c.path = rest.substr(slash);
    rest.resize(slash);
    if (c.path.find_first_of("?# \t\r\n") != std::string::npos) {
      Fail("cdc.metrics_url", "path must be plain (no query, fragment or whitespace)");
    }
  }
  c.address = ParseHostPort(rest, "cdc.metrics_url");
  if (c.address.port == 0) Fail("cdc.metrics_url", "port must be 1..65535");
  if (node["lag_warn_s"]) {
    c.lag_warn_s = static_cast<uint32_t>(Unsigned(node["lag_warn_s"], "cdc.lag_warn_s", 1, 86400));
  }
  if (node["interval_ms"]) {
    c.interval_ms =
        static_cast<uint32_t>(Unsigned(node["interval_ms"], "cdc.interval_ms", 100, 60000));
  }
  if (node["timeout_ms"]) {
    c.timeout_ms = static_cast<uint32_t>(Unsigned(node["timeout_ms"], "cdc.timeout_ms", 50, 60000));
  }
  return c;
}

std::shared_ptr<const Config> ParseRoot(const YAML::Node& root, std::string_view base_dir) {
  if (!root || root.IsNull()) Fail("", "config is empty");
  ExpectMap(root, "",
            {"listen", "admin", "workers", "default_backend", "access_log", "drain_timeout_ms",
             "limits", "backends", "cohorts", "mirror", "routes", "replay", "control", "cdc",
             "forwarded", "timeouts"});
  auto cfg = std::make_shared<Config>();
  auto resolve = [&](std::string p) {
    if (!p.empty() && p[0] != '/' && p != "-" && p != "off" && !base_dir.empty()) {
      p = std::string(base_dir) + "/" + p;
    }
    return p;
  };
  if (root["listen"]) cfg->listen = ParseHostPort(NonEmpty(root["listen"], "listen"), "listen");
  if (root["admin"]) {
    ExpectMap(root["admin"], "admin", {"listen", "token_file", "audit_log", "tls"});
    if (const auto& t = root["admin"]["tls"]) {
      ExpectMap(t, "admin.tls", {"cert_file", "key_file", "client_ca_file"});
      auto& at = cfg->admin_tls;
      at.enabled = true;
      if (!t["cert_file"]) Fail("admin.tls.cert_file", "required (the listener's certificate)");
      if (!t["key_file"]) Fail("admin.tls.key_file", "required (its private key)");
      at.cert_file = resolve(NonEmpty(t["cert_file"], "admin.tls.cert_file"));
      at.key_file = resolve(NonEmpty(t["key_file"], "admin.tls.key_file"));
      if (t["client_ca_file"]) {
        at.client_ca_file = resolve(NonEmpty(t["client_ca_file"], "admin.tls.client_ca_file"));
      }
    }
    if (root["admin"]["audit_log"]) {
      cfg->admin_audit_log = resolve(NonEmpty(root["admin"]["audit_log"], "admin.audit_log"));
    }
    if (root["admin"]["listen"]) {
      cfg->admin_listen =
          ParseHostPort(NonEmpty(root["admin"]["listen"], "admin.listen"), "admin.listen");
    }
    if (root["admin"]["token_file"]) {
      cfg->admin_token_file = resolve(NonEmpty(root["admin"]["token_file"], "admin.token_file"));
    }
  }
  if (root["replay"]) {
    const auto& rp = root["replay"];
    ExpectMap(
        rp, "replay",
        {"dir", "max_mb", "durable_to_legacy", "durable_to_modern", "persist_grace_ms", "intents"});
    if (rp["dir"]) cfg->replay.dir = resolve(NonEmpty(rp["dir"], "replay.dir"));
    if (rp["max_mb"])
      cfg->replay.max_bytes = Unsigned(rp["max_mb"], "replay.max_mb", 1, 1 << 20) << 20;
    if (rp["durable_to_legacy"]) {
      cfg->replay.durable_to_legacy = Bool(rp["durable_to_legacy"], "replay.durable_to_legacy");
    }
    if (rp["durable_to_modern"]) {
      cfg->replay.durable_to_modern = Bool(rp["durable_to_modern"], "replay.durable_to_modern");
    }
    if (rp["persist_grace_ms"]) {
      cfg->replay.persist_grace_ms = static_cast<uint32_t>(
          Unsigned(rp["persist_grace_ms"], "replay.persist_grace_ms", 0, 1000));
    }
    if (rp["intents"]) cfg->replay.intents = Bool(rp["intents"], "replay.intents");
  }
  if (root["control"]) {
    const auto& c = root["control"];
    ExpectMap(
        c, "control",
        {"store", "endpoints", "prefix", "replica_id", "state_file", "timeout_ms", "tls", "auth"});
    auto& ctl = cfg->control;
    if (c["store"]) {
      const auto st = NonEmpty(c["store"], "control.store");
      if (st == "file") {
        ctl.store = Config::Control::Store::kFile;
      } else if (st == "etcd") {
        ctl.store = Config::Control::Store::kEtcd;
      } else {
        Fail("control.store", "must be file or etcd, got '" + st + "'");
      }
    }
    if (c["endpoints"]) {
      if (!c["endpoints"].IsSequence()) Fail("control.endpoints", "must be a list of host:port");
      for (size_t i = 0; i < c["endpoints"].size(); ++i) {
        const std::string ep_path = "control.endpoints[" + std::to_string(i) + "]";
        const auto ep = NonEmpty(c["endpoints"][i], ep_path);
        const size_t scheme = ep.starts_with("http://") ? 7 : ep.starts_with("https://") ? 8 : 0;
        (void)ParseHostPort(ep.substr(scheme), ep_path);
        ctl.endpoints.push_back(ep);
      }
    }
    if (c["prefix"]) {
      ctl.prefix = NonEmpty(c["prefix"], "control.prefix");
      if (ctl.prefix.front() != '/') Fail("control.prefix", "must start with /");
      if (ctl.prefix.back() != '/') ctl.prefix += '/';
    }
    if (c["replica_id"]) ctl.replica_id = NonEmpty(c["replica_id"], "control.replica_id");
    if (c["state_file"]) ctl.state_file = resolve(NonEmpty(c["state_file"], "control.state_file"));
    if (c["timeout_ms"]) {
      ctl.timeout_ms =
          static_cast<uint32_t>(Unsigned(c["timeout_ms"], "control.timeout_ms", 100, 60000));
    }
    if (c["tls"]) {
      ExpectMap(c["tls"], "control.tls", {"ca_file", "cert_file", "key_file"});
      const auto& t = c["tls"];
      ctl.tls.enabled = true;
      if (t["ca_file"]) ctl.tls.ca_file = resolve(NonEmpty(t["ca_file"], "control.tls.ca_file"));
      if (t["cert_file"]) {
        ctl.tls.cert_file = resolve(NonEmpty(t["cert_file"], "control.tls.cert_file"));
      }
      if (t["key_file"])
        ctl.tls.key_file = resolve(NonEmpty(t["key_file"], "control.tls.key_file"));
      if (ctl.tls.cert_file.empty() != ctl.tls.key_file.empty()) {
        Fail(ctl.tls.cert_file.empty() ? "control.tls.cert_file" : "control.tls.key_file",
             "cert_file and key_file go together (the client certificate and its key)");
      }
    }
    for (size_t i = 0; i < ctl.endpoints.size(); ++i) {
      const bool https = ctl.endpoints[i].starts_with("https://");
      if (https && !ctl.tls.enabled) {
        Fail("control.endpoints[" + std::to_string(i) + "]",
             "https:// needs control.tls (at least {} for the system's CAs)");
      }
      if (ctl.endpoints[i].starts_with("http://") && ctl.tls.enabled) {
        Fail("control.endpoints[" + std::to_string(i) + "]", "http:// while control.tls is set");
      }
    }
    if (c["auth"]) {
      ExpectMap(c["auth"], "control.auth", {"user", "password_file"});
      const auto& a = c["auth"];
      if (!a["user"]) Fail("control.auth.user", "required (the etcd user)");
      if (!a["password_file"])
        Fail("control.auth.password_file", "required (a file with the password)");
      ctl.auth_user = NonEmpty(a["user"], "control.auth.user");
      ctl.auth_password_file = resolve(NonEmpty(a["password_file"], "control.auth.password_file"));
    }
    if (ctl.store == Config::Control::Store::kEtcd && ctl.endpoints.empty()) {
      Fail("control.endpoints", "at least one etcd endpoint (host:port) with store etcd");
    }
  }
  if (root["cdc"]) cfg->cdc = ParseCdc(root["cdc"]);
  if (root["workers"])
    cfg->workers = static_cast<uint32_t>(Unsigned(root["workers"], "workers", 0, 256));
  if (root["access_log"]) cfg->access_log = resolve(NonEmpty(root["access_log"], "access_log"));
  if (root["drain_timeout_ms"])
    cfg->drain_timeout_ms = Ms(root["drain_timeout_ms"], "drain_timeout_ms");
  if (root["limits"]) {
    const auto& l = root["limits"];
    ExpectMap(l, "limits",
              {"max_uri_bytes", "max_header_bytes", "max_body_bytes", "max_response_bytes",
               "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms"});
    auto& lim = cfg->limits;
    if (l["max_uri_bytes"]) {
      lim.max_uri_bytes =
          static_cast<uint32_t>(Unsigned(l["max_uri_bytes"], "limits.max_uri_bytes", 16, 1 << 20));
    }
    if (l["max_header_bytes"]) {
      lim.max_header_bytes = static_cast<uint32_t>(
          Unsigned(l["max_header_bytes"], "limits.max_header_bytes", 256, 1 << 24));
    }
    if (l["max_body_bytes"]) {
      lim.max_body_bytes = Unsigned(l["max_body_bytes"], "limits.max_body_bytes", 0, 1ull << 34);
    }
    if (l["max_response_bytes"]) {
      lim.max_response_bytes =
          Unsigned(l["max_response_bytes"], "limits.max_response_bytes", 1024, 1ull << 34);
    }
    if (l["header_timeout_ms"])
      lim.header_timeout_ms = Ms(l["header_timeout_ms"], "limits.header_timeout_ms");
    if (l["body_timeout_ms"])
      lim.body_timeout_ms = Ms(l["body_timeout_ms"], "limits.body_timeout_ms");
    if (l["idle_timeout_ms"])
      lim.idle_timeout_ms = Ms(l["idle_timeout_ms"], "limits.idle_timeout_ms");
  }
  if (root["forwarded"]) {
    const auto& f = root["forwarded"];
    ExpectMap(f, "forwarded", {"trusted", "x_forwarded", "forwarded"});
    auto& fw = cfg->forwarded;
    if (f["trusted"]) {
      if (!f["trusted"].IsSequence()) Fail("forwarded.trusted", "must be a list of CIDRs");
      for (std::size_t i = 0; i < f["trusted"].size(); ++i) {
        const auto item = "forwarded.trusted[" + std::to_string(i) + "]";
        auto cidr = ParseCidr(NonEmpty(f["trusted"][i], item));
        if (!cidr) Fail(item, cidr.error().message);
        fw.trusted.push_back(*cidr);
      }
    }
    if (f["x_forwarded"]) fw.x_forwarded = Bool(f["x_forwarded"], "forwarded.x_forwarded");
    if (f["forwarded"]) fw.forwarded = Bool(f["forwarded"], "forwarded.forwarded");
  }
  if (!root["backends"]) Fail("backends", "is required");
  if (!root["backends"].IsMap() || root["backends"].size() == 0) {
    Fail("backends", "must be a non-empty mapping");
  }
  if (root["timeouts"]) cfg->timeouts = ParseTimeouts(root["timeouts"], "timeouts");
  for (const auto& kv : root["backends"]) {
    const auto name = kv.first.as<std::string>();
    cfg->backends.emplace(name, ParseBackend(name, kv.second, "backends." + name, cfg->timeouts));
  }
  if (root["default_backend"])
    cfg->default_backend = NonEmpty(root["default_backend"], "default_backend");
  if (!cfg->FindBackend(cfg->default_backend)) {
    Fail("default_backend", "unknown backend '" + cfg->default_backend + "'");
  }
  if (root["cohorts"]) {
    if (!root["cohorts"].IsMap()) Fail("cohorts", "must be a mapping");
    for (const auto& kv : root["cohorts"]) {
      const auto name = kv.first.as<std::string>();
      cfg->cohorts.emplace(name, ParseCohort(name, kv.second, "cohorts." + name));
    }
  }
  MirrorPolicy mirror_defaults;
  if (root["mirror"]) mirror_defaults = ParseMirror(root["mirror"], "mirror", mirror_defaults);
  if (root["routes"]) {
    const auto& routes = root["routes"];
    if (!routes.IsSequence()) Fail("routes", "must be a list");
    std::set<std::string> names;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const auto path = "routes[" + std::to_string(i) + "]";
      auto r = ParseRoute(routes[i], path, *cfg, mirror_defaults);
      if (!names.insert(r.name).second)
        Fail(path + ".name", "duplicate route name '" + r.name + "'");
      cfg->routes.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < cfg->routes.size(); ++i) {
      const Route& r = cfg->routes[i];
      if (r.compare.recheck_via.empty()) continue;
      const auto at = "routes[" + std::to_string(i) + "].compare.recheck_via";
      const Route* via = cfg->FindRoute(r.compare.recheck_via);
      if (!via) Fail(at, "unknown route '" + r.compare.recheck_via + "'");
      if (via->method != "GET" || via->prefix) {
        Fail(at, "route '" + via->name + "' must match method GET and an exact path");
      }
      if (r.cohort.empty() || via->cohort != r.cohort) {
        Fail(at, "route '" + via->name + "' must have this route's cohort");
      }
    }
    // Autopilot: one plan per route group (routes sharing a cohort move together).
    std::map<std::string, std::string> plan_of_cohort;
    for (std::size_t i = 0; i < cfg->routes.size(); ++i) {
      const Route& r = cfg->routes[i];
      if (!r.autopilot) continue;
      const auto ap = "routes[" + std::to_string(i) + "].autopilot";
      if (r.cohort.empty() && !r.autopilot->canary_steps_bp.empty()) {
        Fail(ap + ".canary.steps",
             "route has no cohort, so a canary sends no users to modern (add a cohort or set "
             "steps: [])");
      }
      if (r.cohort.empty()) continue;
      auto [it, fresh] = plan_of_cohort.emplace(r.cohort, r.name);
      if (!fresh) {
        Fail(ap, "route group " + r.cohort + " already has a plan (route " + it->second +
                     "): one plan per group");
      }
    }
  }
  return cfg;
}

}  // namespace

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kLegacy:
      return "legacy";
    case Mode::kShadow:
      return "shadow";
    case Mode::kCanary:
      return "canary";
    case Mode::kFull:
      return "full";
  }
  return "unknown";
}

std::string HostPort::ToString() const {
  return host + ":" + std::to_string(port);
}

Backend WithTimeouts(Backend b, const TimeoutOverrides& o) {
  if (o.connect_timeout_ms) b.connect_timeout_ms = *o.connect_timeout_ms;
  if (o.response_timeout_ms) b.response_timeout_ms = *o.response_timeout_ms;
  if (o.idle_timeout_ms) b.idle_timeout_ms = *o.idle_timeout_ms;
  if (o.send_timeout_ms) b.send_timeout_ms = *o.send_timeout_ms;
  if (o.total_timeout_ms) b.total_timeout_ms = *o.total_timeout_ms;
  return b;
}

bool Cohort::NeedsBody() const {
  return std::any_of(key.begin(), key.end(),
                     [](const KeySource& k) { return k.kind == KeySource::Kind::kJson; });
}

const Backend* Config::FindBackend(std::string_view name) const {
  auto it = backends.find(std::string(name));
  return it == backends.end() ? nullptr : &it->second;
}

const Route* Config::FindRoute(std::string_view name) const {
  for (const auto& r : routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const Cohort* Config::FindCohort(std::string_view name) const {
  auto it = cohorts.find(std::string(name));
  return it == cohorts.end() ? nullptr : &it->second;
}

Result<uint32_t> ParsePercent(std::string_view text) {
  auto bad = [] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "must be a number from 0 to 100 with at most two decimals");
  };
  if (text.empty()) return bad();
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 3 || frac.size() > 2) return bad();
  if (dot != std::string_view::npos && frac.empty()) return bad();
  uint32_t w = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
    w = w * 10 + static_cast<uint32_t>(c - '0');
  }
  uint32_t f = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    f *= 10;
    if (i < frac.size()) {
      if (frac[i] < '0' || frac[i] > '9') return bad();
      f += static_cast<uint32_t>(frac[i] - '0');
    }
  }
  const uint32_t bp = w * 100 + f;
  if (bp > 10000) return bad();
  return bp;
}

Result<std::shared_ptr<const Config>> ParseConfig(std::string_view yaml_text,
                                                  std::string_view base_dir) {
  try {
    const auto root = YAML::Load(std::string(yaml_text));
    return ParseRoot(root, base_dir);
  } catch (const ConfigError& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     (e.path.empty() ? std::string() : e.path + ": ") + e.message);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

}  // namespace ficus::proxy
