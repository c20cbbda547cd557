// ScyllaProfileStore: the ProfileStore on a ScyllaDB (or Apache Cassandra,
// protocol v4) cluster, through packages/cql. Contract: profile_store.h;
// tables: packages/schema/cql; statements: scylla_statements.h.
//
// Threads: the store owns one thread running an io_context with the
// cql::Session (single-threaded, as the session requires). Apply() posts
// the update there and returns; `done` runs on that thread. Get() and
// GetIdempotency() post a read and block the calling thread until it
// completes (bounded by the request timeout); they must not be called from
// inside a `done` callback (that thread would wait for itself: they fail
// kInternal instead). All public methods are thread-safe.
//
// Apply, per update, with the update's microsecond stamp as the write
// timestamp of every cell (USING TIMESTAMP), at the configured consistency
// (LOCAL_QUORUM by default):
//   1. one unlogged batch: the history row and the blind writes of
//      profiles_current (attributes + / attributes -, updated_us);
//   2. a read of profiles_current: the merged profile `done` carries;
//   3. with an Idempotency-Key, the record (merged profile, fingerprint) with
//      a 24 h TTL.
// Differences from the RocksDB store, all inherent to a replicated store
// without read-before-write (the domain's merge semantics are unchanged -
// per-key LWW, tombstones and the tie rule are enforced by the database):
//   * The profile of Apply/Get holds the visible attributes; tombstones and
//     per-key stamps stay in the database (cells carry ts_us 0). Only the
//     visible attributes and updated_us are ever rendered.
//   * The merged profile is read after the write, so a concurrent newer
//     update of the same user may already be included.
//   * Not all-or-nothing across the three steps: a failure after step 1 is
//     kInternal ("update applied, ..."); retrying is safe because every
//     write is idempotent (same stamp, same cells; the history row's
//     update_id is derived from the update's content).
//   * A write timeout (kInternal) means "may or may not be applied", as with
//     any quorum write.
//   * An update with no attributes (the api never sends one) writes only
//     its history row: updated_us does not advance, and for a new user the
//     read after the write finds no profile (kInternal). RocksDB creates
//     the profile and advances updated_us.
// Errors: kUnavailable when not connected, over max_in_flight, closing, or
// when the cluster answers Unavailable/Overloaded (nothing applied);
// kInternal otherwise, message prefixed "scylla: ".
//
// Connection: Open() returns at once and connects in the background,
// retrying with backoff and jitter until it succeeds (the writer can start
// before the cluster). Ready() is true while at least one connection is open
// and every statement is prepared; /readyz follows it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ficus/metrics.h"
#include "model/profile_store.h"
#include "model/scylla_statements.h"
#include "model/scylla_store_url.h"

namespace ficus::writer {

// cql::SessionStats, copied for readers on other threads.
struct ScyllaCqlCounters {
  std::uint64_t retries = 0;                 // attempts after the first (idempotent statements)
  std::uint64_t speculative_executions = 0;  // second attempts started by the delay
  std::uint64_t host_down = 0;               // hosts marked down (a connection broke)
  std::uint64_t host_up = 0;                 // hosts back up (a connection opened again)
};

// The store's metrics, registered as ficus_writer_<name> (scylla_cli.cc).
// Optional instrumentation; any pointer may be null.
#define ALL_SCYLLA_STORE_METRICS(COUNTER, GAUGE, HISTOGRAM)                                    \
  GAUGE(scylla_in_flight, "Updates being written to ScyllaDB (batch + read).")                 \
  COUNTER(scylla_errors_total, "Failed ScyllaDB store operations (writes and reads).")         \
  COUNTER(scylla_rejected_total,                                                               \
          "Updates refused before reaching ScyllaDB (not connected, max_in_flight, closing).") \
  HISTOGRAM(scylla_apply_seconds, "Duration of one update on ScyllaDB (batch, read, record).", \
            LatencyBuckets())

struct ScyllaStoreMetrics {
  FICUS_METRIC_FIELDS(ALL_SCYLLA_STORE_METRICS)
};

struct ScyllaStoreOptions {
  ScyllaStoreUrl url;
  std::string password;  // with url.username
  std::chrono::milliseconds topology_refresh{60000};
  std::chrono::milliseconds health_interval{200};  // how often Ready() is refreshed
  std::chrono::milliseconds reconnect_base{200};
  std::chrono::milliseconds reconnect_max{10000};
  std::uint64_t random_seed = 0;  // 0: random
  ScyllaStoreMetrics metrics;
};

class ScyllaProfileStore final : public ProfileStore {
 public:
  // Starts the store thread and the background connect; fails only on
  // invalid options.
  static Result<std::unique_ptr<ScyllaProfileStore>> Open(ScyllaStoreOptions options);
  ~ScyllaProfileStore() override;
  ScyllaProfileStore(const ScyllaProfileStore&) = delete;
  ScyllaProfileStore& operator=(const ScyllaProfileStore&) = delete;

  void Apply(ApplyRequest request, ApplyCallback done) override;
  // Bulk import: the updates grouped by user, each user's group as one
  // single-partition unlogged batch (token-aware, every statement USING
  // TIMESTAMP its update's stamp), the partitions concurrently, no read
  // after the write. `done` once all have finished, with per-update
  // statuses (a partition the cluster refused fails its own updates only).
  void ApplyBatch(std::vector<ProfileUpdate> updates, ApplyBatchCallback done) override;
  Result<Profile> Get(const Uuid& user) override;
  Result<std::optional<IdempotencyRecord>> GetIdempotency(const Uuid& user,
                                                          std::string_view key) override;
  bool Ready() const override;
  Status Close() override;

  // Blocks until Ready() or `timeout`; the error carries the last connect
  // or prepare failure (e.g. a missing keyspace).
  Status WaitReady(std::chrono::milliseconds timeout);
  // The user's history, newest first, at most `limit` rows (tests, tools).
  Result<std::vector<ScyllaHistoryEntry>> History(const Uuid& user, std::size_t limit);
  [[nodiscard]] std::string LastError() const;
  [[nodiscard]] std::size_t InFlight() const;
  // Open connections over all hosts (0 before the first connect).
  [[nodiscard]] std::size_t OpenConnections() const;
  // The CQL session's retry counters, as of the last health refresh.
  [[nodiscard]] ScyllaCqlCounters CqlCounters() const;

 private:
  struct State;
  explicit ScyllaProfileStore(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace ficus::writer
