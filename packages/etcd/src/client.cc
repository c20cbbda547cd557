#include "ficus/etcd/client.h"

#include <boost/json.hpp>

#include "ficus/http/sync_client.h"
#include "json_codec.h"

namespace ficus::etcd {
namespace json = boost::json;
using codec::Base64Encode;

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = end.back();
    if (static_cast<uint8_t>(c) < 0xff) {
      c = static_cast<char>(static_cast<uint8_t>(c) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

Result<std::pair<std::string, uint16_t>> ParseEndpoint(std::string_view s, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": " + std::string(why) +
                                                      " (want host:port, got '" + std::string(s) +
                                                      "')");
  };
  if (s.starts_with("http://")) s.remove_prefix(7);
  if (s.starts_with("https://")) s.remove_prefix(8);
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no port");
  const auto port_text = s.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5) return bad("bad port");
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad("bad port");
    port = port * 10 + unsigned(c - '0');
  }
  if (port == 0 || port > 65535) return bad("port out of range");
  return std::make_pair(std::string(s.substr(0, colon)), static_cast<uint16_t>(port));
}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.endpoints.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "endpoints: at least one host:port");
  }
  for (size_t i = 0; i < options.endpoints.size(); ++i) {
    const std::string field = "endpoints[" + std::to_string(i) + "]";
    auto e = ParseEndpoint(options.endpoints[i], field);
    if (!e) return tl::unexpected(e.error());
    if (options.endpoints[i].starts_with("https://") && !options.tls) {
      return MakeError(ErrorCode::kInvalidArgument,
                       field + ": https:// needs tls (a CA to verify the member)");
    }
    if (options.endpoints[i].starts_with("http://") && options.tls) {
      return MakeError(ErrorCode::kInvalidArgument,
                       field + ": http:// while tls is set (use https:// or host:port)");
    }
  }
  if (options.user.empty() != options.password.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     options.user.empty() ? "user: missing (password given)"
                                          : "password: missing for user '" + options.user + "'");
  }
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

Client::Client(ClientOptions options) : options_(std::move(options)) {}
Client::~Client() = default;

std::string Client::CurrentEndpoint() const {
  std::lock_guard lock(mu_);
  return options_.endpoints[current_];
}

namespace {

// etcd's gRPC code in an error answer -> ours.
Error FromGateway(unsigned status, const std::string& body, const std::string& endpoint) {
  std::string msg = body;
  int64_t code = 0;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* e = o.if_contains("error"); e && e->is_string()) msg = e->get_string();
    if (const auto* m = o.if_contains("message"); m && m->is_string()) msg = m->get_string();
    code = codec::Int(o, "code");
  }
  ErrorCode ours = ErrorCode::kInternal;
  switch (code) {
    case 3:
      ours = ErrorCode::kInvalidArgument;
      break;
    case 5:
      ours = ErrorCode::kNotFound;
      break;
    case 7:  // permission denied (RBAC): a setup error, not an outage
      ours = ErrorCode::kInvalidArgument;
      msg += " (etcd auth: this user's role does not grant it)";
      break;
    case 9:   // failed precondition
    case 11:  // out of range: compacted
      ours = ErrorCode::kPreconditionFailed;
      break;
    case 4:
      ours = ErrorCode::kTimeout;
      break;
    case 14:
      ours = ErrorCode::kUnavailable;
      break;
    default:
      ours = status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
  if (msg.find("lease not found") != std::string::npos) ours = ErrorCode::kNotFound;
  if (msg.find("compacted") != std::string::npos) ours = ErrorCode::kPreconditionFailed;
  return {ours, "etcd " + endpoint + ": " + msg};
}

bool NotSent(const Error& e) {
  return e.message.find("(not sent)") != std::string::npos;
}

// etcd refused the token (expired, or the member forgot it): authenticate
// again. The request was not applied.
bool TokenRefused(const std::string& message) {
  return message.find("invalid auth token") != std::string::npos;
}

http::Request Post(const std::string& path, const std::string& body, const std::string& token) {
  http::Request req;
  req.method = "POST";
  req.verb = boost::beast::http::verb::post;
  req.target = path;
  req.headers.Add("Content-Type", "application/json");
  if (!token.empty()) req.headers.Add("Authorization", token);
  req.body = body;
  return req;
}

std::string Scheme(const ClientOptions& o) {
  return o.tls ? "https://" : "";
}

std::string Bare(const std::string& ep) {
  if (ep.starts_with("http://")) return ep.substr(7);
  if (ep.starts_with("https://")) return ep.substr(8);
  return ep;
}

}  // namespace

Result<std::string> Authenticate(http::SyncClient& conn, const ClientOptions& o,
                                 const std::string& endpoint) {
  const std::string where = "etcd " + Scheme(o) + Bare(endpoint);
  auto req = Post("/v3/auth/authenticate",
                  json::serialize(json::object{{"name", o.user}, {"password", o.password}}), "");
  auto r = conn.Send(req);
  if (!r) return tl::unexpected(Error(r.error().code, where + ": " + r.error().message));
  if (r->status != 200) {
    auto e = FromGateway(r->status, r->body, Scheme(o) + Bare(endpoint));
    if (e.message.find("authentication failed") != std::string::npos ||
        e.message.find("not enabled") != std::string::npos) {
      e.code = ErrorCode::kInvalidArgument;
    }
    e.message += " (authenticating as user '" + o.user + "')";
    return tl::unexpected(e);
  }
  boost::system::error_code ec;
  auto v = json::parse(r->body, ec);
  if (!ec && v.is_object()) {
    if (const auto* t = v.get_object().if_contains("token"); t && t->is_string()) {
      if (!t->get_string().empty()) return std::string(t->get_string());
    }
  }
  return MakeError(ErrorCode::kInternal,
                   where + ": authenticate answered no token: " + r->body.substr(0, 200));
}

Result<std::string> Client::Call(const std::string& path, const std::string& body,
                                 bool safe_to_retry) {
  std::lock_guard lock(mu_);
  Error last{ErrorCode::kUnavailable, "etcd: no endpoint"};
  for (size_t tried = 0; tried < options_.endpoints.size(); ++tried) {
    const std::string ep = Scheme(options_) + Bare(options_.endpoints[current_]);
    if (!conn_) {
      auto hp = ParseEndpoint(ep, "endpoint");
      http::SyncClientOptions o;
      o.host = hp->first;
      o.port = hp->second;
      o.timeout = options_.timeout;
      o.tls = options_.tls;
      conn_ = std::make_unique<http::SyncClient>(std::move(o));
      token_.clear();
    }
    Result<http::Response> r = MakeError(ErrorCode::kInternal, "not sent");
    for (int auth_try = 0; auth_try < 2; ++auth_try) {
      if (!options_.user.empty() && token_.empty()) {
        auto t = Authenticate(*conn_, options_, ep);
        if (!t) {
          r = tl::unexpected(t.error());
          break;
        }
        token_ = std::move(*t);
      }
      auto req = Post(path, body, token_);
      r = conn_->Send(req);
      if (r && r->status != 200 && !options_.user.empty() && TokenRefused(r->body)) {
        token_.clear();  // expired or unknown to this member: once more with a new one
        continue;
      }
      break;
    }
    bool move_on = false;
    if (!r && r.error().message.starts_with("etcd ")) {
      last = r.error();  // from Authenticate, already names the member
      move_on = last.code == ErrorCode::kUnavailable && (safe_to_retry || NotSent(last));
    } else if (!r) {
      last = Error(r.error().code, "etcd " + ep + ": " + r.error().message);
      move_on = safe_to_retry || NotSent(r.error());
    } else if (r->status == 200) {
      return std::move(r->body);
    } else {
      last = FromGateway(r->status, r->body, ep);
      if (last.message.find("user name is empty") != std::string::npos) {
        last.message += " (etcd has auth enabled: configure a user and password)";
      }
      const bool no_leader = last.message.find("no leader") != std::string::npos ||
                             last.message.find("not capable") != std::string::npos;
      move_on = last.code == ErrorCode::kUnavailable && (safe_to_retry || no_leader);
    }
    if (!move_on) return tl::unexpected(last);
    conn_.reset();
    current_ = (current_ + 1) % options_.endpoints.size();
  }
  last.code = last.code == ErrorCode::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
  return tl::unexpected(last);
}

namespace {

Result<json::object> ParseObject(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return MakeError(ErrorCode::kInternal,
                     "etcd: answer is not a JSON object: " + text.substr(0, 200));
  }
  return std::move(v.get_object());
}

json::object OpJson(const Op& op) {
  json::object inner;
  inner["key"] = Base64Encode(op.key);
  switch (op.kind) {
    case Op::Kind::kPut:
      inner["value"] = Base64Encode(op.value);
      if (op.lease) inner["lease"] = std::to_string(op.lease);
      return json::object{{"request_put", std::move(inner)}};
    case Op::Kind::kDelete:
      if (!op.range_end.empty()) inner["range_end"] = Base64Encode(op.range_end);
      return json::object{{"request_delete_range", std::move(inner)}};
    case Op::Kind::kRange:
      if (!op.range_end.empty()) inner["range_end"] = Base64Encode(op.range_end);
      return json::object{{"request_range", std::move(inner)}};
  }
  return {};
}

Result<std::vector<KeyValue>> Kvs(const json::object& o) {
  std::vector<KeyValue> out;
  const auto* kvs = o.if_contains("kvs");
  if (!kvs || !kvs->is_array()) return out;
  for (const auto& kv : kvs->get_array()) {
    if (!kv.is_object()) continue;
    auto p = codec::ParseKv(kv.get_object());
    if (!p) return tl::unexpected(p.error());
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace

Result<RangeResult> Client::Range(const std::string& key, const std::string& range_end) {
  json::object req{{"key", Base64Encode(key)}};
  if (!range_end.empty()) req["range_end"] = Base64Encode(range_end);
  auto body = Call("/v3/kv/range", json::serialize(req), true);
  if (!body) return tl::unexpected(body.error());
  auto o = ParseObject(*body);
  if (!o) return tl::unexpected(o.error());
  RangeResult r;
  r.revision = codec::HeaderRevision(*o);
  auto kvs = Kvs(*o);
  if (!kvs) return tl::unexpected(kvs.error());
  r.kvs = std::move(*kvs);
  return r;
}

Result<int64_t> Client::Put(const std::string& key, const std::string& value, int64_t lease) {
  json::object req{{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
  if (lease) req["lease"] = std::to_string(lease);
  auto body = Call("/v3/kv/put", json::serialize(req), false);
  if (!body) return tl::unexpected(body.error());
  auto o = ParseObject(*body);
  if (!o) return tl::unexpected(o.error());
  return codec::HeaderRevision(*o);
}

Result<int64_t> Client::Delete(const std::string& key, const std::string& range_end) {
  json::object req{{"key", Base64Encode(key)}};
  if (!range_end.empty()) req["range_end"] = Base64Encode(range_end);
  auto body = Call("/v3/kv/deleterange", json::serialize(req), false);
  if (!body) return tl::unexpected(body.error());
  auto o = ParseObject(*body);
  if (!o) return tl::unexpected(o.error());
  return codec::HeaderRevision(*o);
}

Result<TxnResult> Client::Commit(const Txn& txn) {
  json::array compare;
  for (const auto& c : txn.compare) {
    json::object j{{"key", Base64Encode(c.key)}, {"result", "EQUAL"}};
    if (c.target == Compare::Target::kModRevision) {
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.mod_revision);
    } else {
      j["target"] = "VALUE";
      j["value"] = Base64Encode(c.value);
    }
    compare.push_back(std::move(j));
  }
  json::array success;
  json::array failure;
  for (const auto& op : txn.success) success.push_back(OpJson(op));
  for (const auto& op : txn.failure) failure.push_back(OpJson(op));
  json::object req{{"compare", std::move(compare)},
                   {"success", std::move(success)},
                   {"failure", std::move(failure)}};
  auto body = Call("/v3/kv/txn", json::serialize(req), false);
  if (!body) return tl::unexpected(body.error());
  auto o = ParseObject(*body);
  if (!o) return tl::unexpected(o.error());
  TxnResult r;
  r.revision = codec::HeaderRevision(*o);
  if (const auto* s = o->if_contains("succeeded"); s && s->is_bool()) r.succeeded = s->get_bool();
  if (const auto* rs = o->if_contains("responses"); rs && rs->is_array()) {
    for (const auto& one : rs->get_array()) {
      if (!one.is_object()) continue;
      const auto* rr = one.get_object().if_contains("response_range");
      if (!rr || !rr->is_object()) continue;
      auto kvs = Kvs(rr->get_object());
      if (!kvs) return tl::unexpected(kvs.error());
      r.ranges.push_back(std::move(*kvs));
    }
  }
  return r;
}

Result<Lease> Client::LeaseGrant(int64_t ttl_s) {
  if (ttl_s <= 0) return MakeError(ErrorCode::kInvalidArgument, "ttl_s: must be > 0");
  auto body =
      Call("/v3/lease/grant", json::serialize(json::object{{"TTL", std::to_string(ttl_s)}}), false);
  if (!body) return tl::unexpected(body.error());
  auto o = ParseObject(*body);
  if (!o) return tl::unexpected(o.error());
  if (const auto* e = o->if_contains("error"); e && e->is_string() && !e->get_string().empty()) {
    return MakeError(ErrorCode::kUnavailable, "etcd: lease grant: " + std::string(e->get_string()));
  }
  Lease l{codec::Int(*o, "ID"), codec::Int(*o, "TTL")};
  if (l.id == 0) return MakeError(ErrorCode::kInternal, "etcd: lease grant answered no ID");
  return l;
}

Result<Lease> Client::LeaseKeepAlive(int64_t id) {
  auto body =
      Call("/v3/lease/keepalive", json::serialize(json::object{{"ID", std::to_string(id)}}), true);
  if (!body) return tl::unexpected(body.error());
  // A streaming RPC on the gateway: the answer is {"result":{...}} (maybe
  // followed by a newline); TTL 0 or absent means the lease is gone.
  auto nl = body->find('\n');
  auto o = ParseObject(nl == std::string::npos ? *body : body->substr(0, nl));
  if (!o) return tl::unexpected(o.error());
  const json::object* res = &*o;
  if (const auto* r = o->if_contains("result"); r && r->is_object()) res = &r->get_object();
  if (const auto* e = o->if_contains("error"); e && e->is_object()) {
    return tl::unexpected(FromGateway(500, json::serialize(*e), CurrentEndpoint()));
  }
  Lease l{codec::Int(*res, "ID"), codec::Int(*res, "TTL")};
  if (l.ttl_s <= 0) {
    return MakeError(ErrorCode::kNotFound, "etcd: lease " + std::to_string(id) + " not found");
  }
  return l;
}

Status Client::LeaseRevoke(int64_t id) {
  auto body =
      Call("/v3/lease/revoke", json::serialize(json::object{{"ID", std::to_string(id)}}), true);
  if (!body) return tl::unexpected(body.error());
  return {};
}

}  // namespace ficus::etcd
