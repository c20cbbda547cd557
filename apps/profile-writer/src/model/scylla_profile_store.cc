#include "model/scylla_profile_store.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "ficus/clock.h"
#include "ficus/cql/backoff.h"
#include "ficus/cql/session.h"
#include "service/logging.h"

namespace ficus::writer {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Collects the per-record statuses of one ApplyBatch across its partitions.
struct BatchGather {
  std::mutex mu;
  std::vector<Status> statuses;
  std::size_t left = 0;  // partitions still running
  ApplyBatchCallback done;
};

struct ScyllaProfileStore::State {
  explicit State(ScyllaStoreOptions o)
      : options(std::move(o)),
        work(io.get_executor()),
        backoff(options.reconnect_base, options.reconnect_max,
                options.random_seed ? options.random_seed : std::random_device{}()),
        wake(io),
        log(GetLogger("writer.scylla")) {}

  ScyllaStoreOptions options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  std::thread::id thread_id;
  cql::Backoff backoff;
  asio::steady_timer wake;  // connect backoff and health ticks; cancelled by Close

  // Store thread only.
  std::shared_ptr<cql::Session> session;
  std::array<cql::PreparedPtr, kScyllaStatementCount> prepared{};

  std::atomic<bool> ready{false};
  std::atomic<bool> closing{false};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> open_connections{0};
  // Copies of the session's retry counters (read from other threads).
  std::atomic<std::uint64_t> cql_retries{0}, cql_speculative{0}, cql_host_down{0}, cql_host_up{0};
  std::mutex mu;  // guards last_error, closed; with drained
  std::condition_variable drained;
  std::string last_error = "not connected yet";
  bool closed = false;
  std::shared_ptr<spdlog::logger> log;

  void SetError(std::string e) {
    std::lock_guard lock(mu);
    last_error = std::move(e);
  }

  cql::SessionOptions SessionOptions() const {
    cql::SessionOptions s;
    s.contact_points = options.url.contact_points;
    s.local_dc = options.url.local_dc;
    s.consistency = options.url.consistency;
    s.request_timeout = options.url.timeout;
    s.connect_timeout = options.url.connect_timeout;
    s.username = options.url.username;
    s.password = options.password;
    s.shard_aware = options.url.shard_aware;
    s.reconnect_base = options.reconnect_base;
    s.reconnect_max = options.reconnect_max;
    s.random_seed = options.random_seed;
    return s;
  }

  void RefreshHealth() {
    std::size_t open = 0;
    if (session) {
      for (const auto& h : session->Hosts()) open += h.open_connections;
      const auto& st = session->stats();
      cql_retries = st.retries;
      cql_speculative = st.speculative_executions;
      cql_host_down = st.host_down;
      cql_host_up = st.host_up;
    }
    open_connections = open;
    ready = session && open > 0 && !closing;
  }

  // Connects (retrying with backoff), prepares every statement, then keeps
  // Ready() and the topology fresh until Close.
  awaitable<void> Run() {
    for (int attempt = 0; !closing; ++attempt) {
      auto opts = SessionOptions();
      cql::Session::Executor ex = io.get_executor();
      auto s = co_await cql::Session::Connect(std::move(ex), std::move(opts));
      if (s) {
        auto st = co_await PrepareAll(*s);
        if (st) {
          session = std::move(*s);
          break;
        }
        (*s)->Close();
        SetError(st.error().message);
      } else {
        SetError(s.error().message);
      }
      log->warn("cluster not usable yet (attempt {}): {}", attempt + 1, LastError());
      wake.expires_after(backoff.Delay(attempt));
      boost::system::error_code ec;
      co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    if (!session) co_return;
    if (closing) {  // Close ran while we were connecting
      session->Close();
      session.reset();
      co_return;
    }
    log->info("connected to {} host(s), keyspace {}, consistency {}", session->Hosts().size(),
              options.url.keyspace, cql::ConsistencyName(options.url.consistency));
    Stopwatch since_refresh;
    bool was_ready = false;
    while (!closing) {
      RefreshHealth();
      if (ready != was_ready) {
        was_ready = ready;
        if (!was_ready) {
          SetError("no open connection to any host");
          log->error("lost every connection to the cluster; reconnecting");
        } else {
          log->info("cluster connection ready");
        }
      }
      if (since_refresh.Elapsed() >= options.topology_refresh) {
        since_refresh.Restart();
        auto st = co_await session->RefreshTopology();
        if (!st) log->warn("topology refresh failed: {}", st.error().message);
      }
      wake.expires_after(options.health_interval);
      boost::system::error_code ec;
      co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<Status> PrepareAll(const std::shared_ptr<cql::Session>& s) {
    auto texts = ScyllaStatementTexts(options.url.keyspace);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string text = texts[i];
      auto p = co_await s->Prepare(std::move(text));
      if (!p) {
        co_return MakeError(p.error().code,
                            fmt::format("preparing '{}': {} (has `profile-writer schema apply` "
                                        "created keyspace {}?)",
                                        texts[i], p.error().message, options.url.keyspace));
      }
      prepared[i] = *p;
    }
    co_return Status{};
  }

  std::string LastError() {
    std::lock_guard lock(mu);
    return last_error;
  }

  Result<cql::ResultBody> NotConnected() const {
    return MakeError(ErrorCode::kUnavailable, "scylla: not connected to the cluster");
  }

  awaitable<Result<cql::ResultBody>> Exec(BoundStatement b) {
    if (!session) co_return NotConnected();
    auto stmt = prepared[static_cast<std::size_t>(b.statement)];
    cql::ExecOptions opts;
    opts.idempotent = true;  // reads, and writes USING TIMESTAMP of the update
    co_return co_await session->Execute(std::move(stmt), std::move(b.values), std::move(opts));
  }

  awaitable<Result<cql::RowsResult>> Rows(BoundStatement b) {
    auto r = co_await Exec(std::move(b));
    if (!r) co_return tl::unexpected(std::move(r.error()));
    auto* rows = std::get_if<cql::RowsResult>(&*r);
    if (!rows)
      co_return MakeError(ErrorCode::kInternal, "scylla: a SELECT returned no rows result");
    co_return std::move(*rows);
  }

  awaitable<Result<Profile>> ApplyOnce(ApplyRequest request) {
    if (!session)
      co_return MakeError(ErrorCode::kUnavailable, "scylla: not connected to the cluster");
    std::vector<cql::BatchItem> items;
    for (auto& b : UpdateStatements(request.update)) {
      items.push_back({prepared[static_cast<std::size_t>(b.statement)], std::move(b.values)});
    }
    cql::ExecOptions opts;
    opts.idempotent = true;  // every cell carries the update's timestamp: replays are no-ops
    auto written = co_await session->Batch(std::move(items), std::move(opts));
    if (!written) {
      const Error& e = written.error();
      if (e.code == ErrorCode::kUnavailable) {
        co_return MakeError(ErrorCode::kUnavailable, "scylla: " + e.message);
      }
      if (e.code == ErrorCode::kTimeout) {
        co_return MakeError(
            ErrorCode::kInternal,
            "scylla: write timed out, the update may or may not be applied: " + e.message);
      }
      co_return MakeError(ErrorCode::kInternal, "scylla: " + e.message);
    }
    auto select = SelectCurrent(request.update.user);
    auto rows = co_await Rows(std::move(select));
    if (!rows) {
      co_return MakeError(
          ErrorCode::kInternal,
          "scylla: update applied, reading the merged profile failed: " + rows.error().message);
    }
    auto merged = DecodeCurrent(*rows);
    if (!merged) {
      co_return MakeError(ErrorCode::kInternal, "scylla: update applied, but the merged profile: " +
                                                    merged.error().message);
    }
    if (request.idempotency) {
      auto insert = InsertIdempotency(request.update.user, *request.idempotency, *merged);
      auto stored = co_await Exec(std::move(insert));
      if (!stored) {
        co_return MakeError(ErrorCode::kInternal,
                            "scylla: update applied, storing the Idempotency-Key record failed: " +
                                stored.error().message);
      }
    }
    co_return merged;
  }

  // One user's updates of a bulk import as ONE unlogged batch: both tables
  // are partitioned by user, so the batch is single-partition and the
  // session routes it token-aware (its first statement, the history row,
  // carries the routing key). Each statement keeps its own USING TIMESTAMP
  // (the update's stamp). No read-after-write: a bulk import answers per
  // record, not with the merged profile. At most kPartitionBatch updates per
  // batch (a larger group is several batches, in order).
  static constexpr std::size_t kPartitionBatch = 32;
  awaitable<Status> ApplyPartition(std::vector<ProfileUpdate> group) {
    for (std::size_t first = 0; first < group.size(); first += kPartitionBatch) {
      if (!session) co_return MakeError(ErrorCode::kUnavailable, "scylla: not connected");
      std::vector<cql::BatchItem> items;
      const std::size_t end = std::min(group.size(), first + kPartitionBatch);
      for (std::size_t i = first; i < end; ++i) {
        for (auto& b : UpdateStatements(group[i])) {
          items.push_back({prepared[static_cast<std::size_t>(b.statement)], std::move(b.values)});
        }
      }
      cql::ExecOptions opts;
      auto written = co_await session->Batch(std::move(items), std::move(opts));
      if (!written) {
        const Error& e = written.error();
        if (e.code == ErrorCode::kTimeout) {
          co_return MakeError(
              ErrorCode::kInternal,
              "scylla: write timed out, the update may or may not be applied: " + e.message);
        }
        co_return MakeError(
            e.code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable : ErrorCode::kInternal,
            "scylla: " + e.message);
      }
    }
    co_return Status{};
  }

  awaitable<void> ApplyPartitionAndFinish(std::vector<ProfileUpdate> group,
                                          std::vector<std::size_t> idx,
                                          std::shared_ptr<BatchGather> gather) {
    const Stopwatch watch;
    Status r = co_await ApplyPartition(std::move(group));
    if (options.metrics.scylla_apply_seconds)
      options.metrics.scylla_apply_seconds->Observe(watch.ElapsedSeconds());
    if (!r && options.metrics.scylla_errors_total) options.metrics.scylla_errors_total->Inc();
    if (options.metrics.scylla_in_flight) options.metrics.scylla_in_flight->Add(-1);
    bool last = false;
    {
      std::lock_guard lock(gather->mu);
      if (!r) {
        for (std::size_t i : idx) gather->statuses[i] = tl::unexpected(r.error());
      }
      last = --gather->left == 0;
    }
    if (last) {
      // Per-record statuses: a partition the cluster refused fails its own
      // records only (the client retries those; replays are idempotent).
      gather->done(std::move(gather->statuses));
    }
    Leave();
  }

  awaitable<void> ApplyAndFinish(ApplyRequest request, ApplyCallback done) {
    const Stopwatch watch;
    auto r = co_await ApplyOnce(std::move(request));
    if (options.metrics.scylla_apply_seconds)
      options.metrics.scylla_apply_seconds->Observe(watch.ElapsedSeconds());
    if (!r && options.metrics.scylla_errors_total) options.metrics.scylla_errors_total->Inc();
    if (options.metrics.scylla_in_flight) options.metrics.scylla_in_flight->Add(-1);
    done(std::move(r));
    Leave();
  }

  // Every Apply and blocking read is counted from before it checks
  // `closing` until it completes, so Close (which sets `closing`, then waits
  // for zero) never strands one: both are sequentially consistent.
  bool Enter() {
    ++in_flight;
    if (!closing) return true;
    Leave();
    return false;
  }
  void Leave() {
    if (--in_flight == 0) {
      std::lock_guard lock(mu);
      drained.notify_all();
    }
  }

  // Runs `aw` on the store thread and waits for it from the caller's thread.
  template <typename T>
  Result<T> Blocking(awaitable<Result<T>> aw) {
    if (std::this_thread::get_id() == thread_id) {
      return MakeError(ErrorCode::kInternal,
                       "scylla: blocking read called on the store thread (from a callback)");
    }
    if (!Enter()) return MakeError(ErrorCode::kUnavailable, "scylla: store is closing");
    if (!ready) {
      Leave();
      return MakeError(ErrorCode::kUnavailable, "scylla: not connected to the cluster");
    }
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    asio::co_spawn(io, std::move(aw), [this, promise](const std::exception_ptr& e, Result<T> r) {
      if (e) r = MakeError(ErrorCode::kInternal, "scylla: read failed with an exception");
      promise->set_value(std::move(r));
      Leave();
    });
    // The session's own timeout answers first; this only guards a stuck thread.
    if (future.wait_for(options.url.timeout * 2 + std::chrono::seconds(1)) !=
        std::future_status::ready) {
      return MakeError(ErrorCode::kInternal, "scylla: read did not complete");
    }
    auto r = future.get();
    if (!r && r.error().code != ErrorCode::kNotFound && options.metrics.scylla_errors_total) {
      options.metrics.scylla_errors_total->Inc();
    }
    return r;
  }
};

namespace {

Error ReadError(const Error& e) {
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kNotFound) return e;
  if (e.message.rfind("scylla: ", 0) == 0) return Error(ErrorCode::kInternal, e.message);
  return Error(ErrorCode::kInternal, "scylla: " + e.message);
}

}  // namespace

Result<std::unique_ptr<ScyllaProfileStore>> ScyllaProfileStore::Open(ScyllaStoreOptions options) {
  if (options.url.contact_points.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "scylla: no contact points");
  }
  if (!IsValidKeyspaceName(options.url.keyspace)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "scylla: invalid keyspace '" + options.url.keyspace + "'");
  }
  auto state = std::make_shared<State>(std::move(options));
  State* s = state.get();
  asio::co_spawn(s->io, s->Run(), asio::detached);
  s->thread = std::thread([s] {
    pthread_setname_np(pthread_self(), "scylla-store");
    s->io.run();
  });
  s->thread_id = s->thread.get_id();
  return std::unique_ptr<ScyllaProfileStore>(new ScyllaProfileStore(std::move(state)));
}

ScyllaProfileStore::ScyllaProfileStore(std::shared_ptr<State> state) : state_(std::move(state)) {}

ScyllaProfileStore::~ScyllaProfileStore() {
  (void)Close();
}

void ScyllaProfileStore::Apply(ApplyRequest request, ApplyCallback done) {
  State* s = state_.get();
  auto reject = [s, &done](std::string why) {
    if (s->options.metrics.scylla_rejected_total) s->options.metrics.scylla_rejected_total->Inc();
    done(MakeError(ErrorCode::kUnavailable, std::move(why)));
  };
  if (!s->Enter()) return reject("scylla: store is closing");
  if (!s->ready) {
    s->Leave();
    return reject("scylla: not connected to the cluster");
  }
  if (s->in_flight > s->options.url.max_in_flight) {
    s->Leave();
    return reject(fmt::format("scylla: more than {} requests in flight (max_in_flight)",
                              s->options.url.max_in_flight));
  }
  if (s->options.metrics.scylla_in_flight) s->options.metrics.scylla_in_flight->Add(1);
  asio::co_spawn(s->io, s->ApplyAndFinish(std::move(request), std::move(done)), asio::detached);
}

void ScyllaProfileStore::ApplyBatch(std::vector<ProfileUpdate> updates, ApplyBatchCallback done) {
  State* s = state_.get();
  if (updates.empty()) {
    done(std::vector<Status>());
    return;
  }
  // One partition per user in both tables: a user's updates go together.
  std::map<Uuid, std::vector<std::size_t>> by_user;
  for (std::size_t i = 0; i < updates.size(); ++i) by_user[updates[i].user].push_back(i);
  auto reject = [s, &done](std::string why) {
    if (s->options.metrics.scylla_rejected_total) s->options.metrics.scylla_rejected_total->Inc();
    done(MakeError(ErrorCode::kUnavailable, std::move(why)));
  };
  if (!s->Enter()) return reject("scylla: store is closing");
  if (!s->ready) {
    s->Leave();
    return reject("scylla: not connected to the cluster");
  }
  if (s->in_flight + by_user.size() > s->options.url.max_in_flight + 1) {
    s->Leave();
    return reject(fmt::format("scylla: more than {} requests in flight (max_in_flight)",
                              s->options.url.max_in_flight));
  }
  auto gather = std::make_shared<BatchGather>();
  gather->statuses.resize(updates.size());
  gather->left = by_user.size();
  gather->done = std::move(done);
  for (auto& [user, idx] : by_user) {
    std::vector<ProfileUpdate> group;
    group.reserve(idx.size());
    for (std::size_t i : idx) group.push_back(std::move(updates[i]));
    if (s->options.metrics.scylla_in_flight) s->options.metrics.scylla_in_flight->Add(1);
    ++s->in_flight;  // one per partition batch (the outer Enter keeps Close waiting); Leave at its
                     // end
    asio::co_spawn(s->io, s->ApplyPartitionAndFinish(std::move(group), std::move(idx), gather),
                   asio::detached);
  }
  s->Leave();
}

Result<Profile> ScyllaProfileStore::Get(const Uuid& user) {
  State* s = state_.get();
  auto r = s->Blocking<Profile>([](State* st, Uuid u) -> awaitable<Result<Profile>> {
    auto select = SelectCurrent(u);
    auto rows = co_await st->Rows(std::move(select));
    if (!rows) co_return tl::unexpected(ReadError(rows.error()));
    co_return DecodeCurrent(*rows);
  }(s, user));
  return r;
}

Result<std::optional<IdempotencyRecord>> ScyllaProfileStore::GetIdempotency(const Uuid& user,
                                                                            std::string_view key) {
  State* s = state_.get();
  using Rec = std::optional<IdempotencyRecord>;
  return s->Blocking<Rec>([](State* st, Uuid u, std::string k) -> awaitable<Result<Rec>> {
    auto select = SelectIdempotency(u, k);
    auto rows = co_await st->Rows(std::move(select));
    if (!rows) co_return tl::unexpected(ReadError(rows.error()));
    co_return DecodeIdempotency(*rows, u);
  }(s, user, std::string(key)));
}

Result<std::vector<ScyllaHistoryEntry>> ScyllaProfileStore::History(const Uuid& user,
                                                                    std::size_t limit) {
  State* s = state_.get();
  using Hist = std::vector<ScyllaHistoryEntry>;
  auto n = static_cast<std::int32_t>(std::min<std::size_t>(limit, 100000));
  return s->Blocking<Hist>([](State* st, Uuid u, std::int32_t lim) -> awaitable<Result<Hist>> {
    auto select = SelectHistory(u, lim);
    auto rows = co_await st->Rows(std::move(select));
    if (!rows) co_return tl::unexpected(ReadError(rows.error()));
    co_return DecodeHistory(*rows);
  }(s, user, n));
}

bool ScyllaProfileStore::Ready() const {
  return state_->ready && !state_->closing;
}

Status ScyllaProfileStore::WaitReady(std::chrono::milliseconds timeout) {
  const MonoTime deadline = SystemClock::MonoNow() + timeout;
  while (!Ready()) {
    if (state_->closing) return MakeError(ErrorCode::kUnavailable, "scylla: store is closing");
    if (SystemClock::MonoNow() >= deadline) {
      return MakeError(ErrorCode::kUnavailable, "scylla: cluster not ready after " +
                                                    std::to_string(timeout.count()) +
                                                    " ms: " + state_->LastError());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

std::string ScyllaProfileStore::LastError() const {
  return state_->LastError();
}
std::size_t ScyllaProfileStore::InFlight() const {
  return state_->in_flight;
}
ScyllaCqlCounters ScyllaProfileStore::CqlCounters() const {
  return {state_->cql_retries, state_->cql_speculative, state_->cql_host_down, state_->cql_host_up};
}

std::size_t ScyllaProfileStore::OpenConnections() const {
  return state_->open_connections;
}

Status ScyllaProfileStore::Close() {
  State* s = state_.get();
  {
    std::unique_lock lock(s->mu);
    if (s->closed) return {};
    s->closing = true;
    s->ready = false;
    // Every accepted Apply completes (each is bounded by the request timeout).
    s->drained.wait(lock, [s] { return s->in_flight == 0; });
    s->closed = true;
  }
  asio::post(s->io, [s] {
    s->wake.cancel();
    if (s->session) s->session->Close();
    s->session.reset();
    s->work.reset();
  });
  if (s->thread.joinable()) s->thread.join();
  return {};
}

}  // namespace ficus::writer
