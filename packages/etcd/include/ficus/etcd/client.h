// etcd v3 client over etcd's JSON gateway (/v3/kv/*, /v3/lease/*, /v3/watch)
// on ficus::http::SyncClient: no gRPC. Keys and values are byte strings here;
// the base64 the gateway needs is done inside. etcd's int64 fields travel as
// JSON strings and are parsed here.
//
// Contract:
// - Endpoints are "host:port" (IP or localhost); the client talks to one and
//   moves to the next when it cannot connect or the member answers
//   "unavailable" (no leader, stopping). A request that may have reached a
//   member that then failed is NOT retried elsewhere (a txn's outcome would
//   be unknown): it fails with kUnavailable and the caller decides (reads
//   are retried, they are safe).
// - Errors: kUnavailable (no member reachable / no leader / outcome
//   unknown), kTimeout (deadline), kInvalidArgument (bad argument or etcd
//   said so), kNotFound (lease not found), kPreconditionFailed (revision
//   compacted), kInternal (unparseable answer). Messages name the endpoint.
// - TLS: with options.tls (http::MakeClientTlsContext: CA, client cert/key)
//   every member is spoken to over https and must present a certificate
//   for its IP signed by that CA; an endpoint may be written
//   "https://host:port" (then tls is required). A failed handshake fails
//   the call with kUnavailable naming the endpoint and OpenSSL's reason.
// - Auth (etcd's RBAC, `auth enable`): with options.user the client gets a
//   token from /v3/auth/authenticate (on first use, per member) and sends
//   it as the Authorization header. When etcd answers "invalid auth token"
//   (expired: --auth-token-ttl, or the member restarted) it authenticates
//   again and repeats the call once (etcd refused it before doing
//   anything). Wrong user/password: kInvalidArgument naming the user.
// - Threads: every method is thread-safe (one connection, serialised by a
//   mutex); a slow call blocks the others for at most `timeout` per member.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ficus/http/tls.h"
#include "ficus/result.h"

namespace ficus::http {
class SyncClient;
}

namespace ficus::etcd {

struct ClientOptions {
  std::vector<std::string> endpoints;  // "127.0.0.1:2379"
  std::chrono::milliseconds timeout{2000};
  std::shared_ptr<http::TlsContext> tls;  // null: plain http
  std::string user;                       // "": etcd auth off
  std::string password;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  int64_t revision = 0;  // the store's revision when read
  std::vector<KeyValue> kvs;
};

// One comparison of a transaction: the key's mod_revision (0 = absent) or
// its value compared for equality.
struct Compare {
  std::string key;
  enum class Target { kModRevision, kValue } target = Target::kModRevision;
  int64_t mod_revision = 0;
  std::string value;
};

struct Op {
  enum class Kind { kPut, kDelete, kRange } kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  int64_t lease = 0;      // kPut
  std::string range_end;  // kDelete/kRange ("" = the one key)
};

struct Txn {
  std::vector<Compare> compare;
  std::vector<Op> success;
  std::vector<Op> failure;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // The kvs of every kRange op of the branch taken, in op order.
  std::vector<std::vector<KeyValue>> ranges;
};

struct Lease {
  int64_t id = 0;
  int64_t ttl_s = 0;
};

// The range_end that makes [prefix, end) every key with that prefix.
std::string PrefixEnd(std::string_view prefix);

// Gets an auth token from the member `conn` talks to (POST
// /v3/auth/authenticate with options.user/password).
Result<std::string> Authenticate(http::SyncClient& conn, const ClientOptions& options,
                                 const std::string& endpoint);

// Parses "host:port", "http://host:port" or "https://host:port"
// (kInvalidArgument naming `field` when malformed).
Result<std::pair<std::string, uint16_t>> ParseEndpoint(std::string_view s, std::string_view field);

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();

  Result<RangeResult> Range(const std::string& key, const std::string& range_end = "");
  Result<RangeResult> RangePrefix(const std::string& prefix) {
    return Range(prefix, PrefixEnd(prefix));
  }
  // Returns the revision of the put.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  Result<int64_t> Delete(const std::string& key, const std::string& range_end = "");
  Result<TxnResult> Commit(const Txn& txn);

  Result<Lease> LeaseGrant(int64_t ttl_s);
  // Renews the lease once; kNotFound when it expired or was revoked.
  Result<Lease> LeaseKeepAlive(int64_t id);
  Status LeaseRevoke(int64_t id);

  // POST `path` with a JSON body to the current member (failover as above);
  // the raw JSON answer of a 200. For callers the typed calls do not cover.
  Result<std::string> Call(const std::string& path, const std::string& json, bool safe_to_retry);

  const ClientOptions& options() const { return options_; }
  std::string CurrentEndpoint() const;

 private:
  explicit Client(ClientOptions options);
  ClientOptions options_;
  mutable std::mutex mu_;
  size_t current_ = 0;
  std::unique_ptr<http::SyncClient> conn_;
  std::string token_;  // etcd auth token for conn_'s member ("" = none yet)
};

}  // namespace ficus::etcd
