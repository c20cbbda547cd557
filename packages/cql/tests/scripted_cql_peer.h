// ScriptedCqlPeer: a TEST DOUBLE, not ScyllaDB or Cassandra. A real TCP
// listener on 127.0.0.x that speaks the CQL v4 wire protocol (using this
// package's codec on the server side) and answers frame by frame as the
// test scripts it. It knows only what the client's state machine needs:
// OPTIONS/SUPPORTED (optionally with ScyllaDB sharding options and a
// shard-aware port), STARTUP/READY, PasswordAuthenticator, system.local and
// system.peers rows, PREPARE/EXECUTE/BATCH with per-node prepared ids
// (UNPREPARED for unknown ids), and anything else through a handler that can
// delay, withhold, corrupt or close.
//
// Data: the peer itself stores nothing. CqlTableEngine::Handler()
// (cql_table_engine.h) answers PREPARE/EXECUTE/BATCH/QUERY from an
// in-memory model of the tables, so a store's data contract can run over
// the wire; the handshake and system.* stay the peer's.
//
// Runs its own io_context on its own thread; every public member is
// thread-safe. The handler runs on the peer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ficus/cql/frame.h"

namespace ficus::cql::testing {

struct PeerNode {
  std::string address;
  std::string dc = "dc1";
  std::vector<std::int64_t> tokens;
};

struct PeerRequest {
  int connection = 0;
  std::uint16_t client_port = 0;
  unsigned shard = 0;
  bool on_shard_aware_port = false;
  std::int16_t stream = 0;
  Request request;
};

struct PeerReply {
  std::optional<Response> response;  // nullopt: never answer
  std::optional<Bytes> raw;          // raw bytes instead of an encoded response
  std::chrono::milliseconds delay{0};
  bool close = false;  // close the connection instead of answering
};

// Returns nullopt to fall back to the default behaviour.
using PeerHandler = std::function<std::optional<PeerReply>(const PeerRequest&)>;

class ScriptedCqlPeer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    unsigned nr_shards = 0;  // 0: a Cassandra-like node, no SCYLLA_* options
    bool shard_aware_port = false;
    unsigned ignore_msb = 12;
    std::string dc = "dc1";
    std::vector<std::int64_t> tokens = {0};
    std::vector<PeerNode> peers;  // rows of system.peers
    std::string username;         // non-empty: PasswordAuthenticator
    std::string password;
  };

  explicit ScriptedCqlPeer(const Options& options);
  ~ScriptedCqlPeer();
  ScriptedCqlPeer(const ScriptedCqlPeer&) = delete;
  ScriptedCqlPeer& operator=(const ScriptedCqlPeer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::uint16_t shard_aware_port() const { return shard_port_; }
  [[nodiscard]] const std::string& address() const { return options_.address; }

  void SetHandler(PeerHandler handler);
  // Bind metadata a PREPARE of `query` answers with.
  void DefineStatement(const std::string& query, std::vector<ColumnSpec> bind,
                       std::vector<std::uint16_t> pk);
  // Rows system.peers answers from now on (a node joined or left).
  void SetPeers(std::vector<PeerNode> peers);
  // Accept connections but close them at once (a node that is down).
  void SetRefuse(bool refuse);
  void DropConnections();
  void ForgetPrepared();

  [[nodiscard]] std::vector<PeerRequest> Requests() const;
  [[nodiscard]] std::vector<PeerRequest> Requests(Opcode op) const;
  // Stream ids in the order their answers were written.
  [[nodiscard]] std::vector<std::int16_t> AnswerOrder() const;
  [[nodiscard]] std::vector<std::chrono::steady_clock::time_point> AcceptTimes() const;
  [[nodiscard]] std::size_t OpenConnections() const;

 private:
  struct Impl;
  Options options_;
  std::uint16_t port_ = 0;
  std::uint16_t shard_port_ = 0;
  std::shared_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace ficus::cql::testing
