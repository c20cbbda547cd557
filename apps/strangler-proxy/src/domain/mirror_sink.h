// MirrorSink: where the outcome of every mirrored request goes.
//
// The proxy sends a copy of a routed request to the "other" backend after
// the primary request has been dispatched; that copy never delays or alters
// the primary answer. Whatever happens to the copy is reported here, so the
// control plane can plug in a durable replay log (failed or dropped writes)
// and a response comparator (primary vs mirror answers) without touching
// the forwarding path.
//
// Threads and order: callbacks run on the event-loop thread that served the
// request, must not block, and must be thread-safe across loops (one sink
// instance is shared by all loops). For one exchange exactly one of
// OnDropped / OnCompleted is called, and OnCompleted is called only after
// both the mirror outcome and the primary response are known.
//
// Durable mirroring (lossless rollback): when the proxy builds an exchange it
// asks NeedsDurableBeforeAnswer(); if true (the sink's choice, e.g. a write
// mirrored to legacy) the exchange carries durable_before_answer = true and,
// after the primary answered and BEFORE the client gets the answer, the proxy
// calls Persist(ex, in_flight, done) unless the mirror already finished with
// a 2xx. It waits for done(id) (id 0: could not persist; the answer still
// goes out, the sink counts it). in_flight = true: the mirror is still
// running; the sink keeps the record held and OnCompleted (ex.journal_id set)
// settles it. in_flight = false: the copy was dropped or failed; the record
// goes to replay at once. For such exchanges OnDropped/OnCompleted must not
// persist the write again.
//
// Every primary outcome of a routed request is reported to OnPrimary() (for
// live rates, latencies and auto-fallback), on the request's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/config.h"

namespace ficus::proxy {

enum class MirrorOutcome {
  kOk,            // mirror answered (any HTTP status)
  kOverflow,      // not sent: the route's in-flight bound was reached
  kUnhealthy,     // not sent: active health check marks the target down
  kConnectError,  // could not connect
  kTimeout,       // no complete answer within the mirror timeout
  kIoError,       // connection failed mid-exchange or answer unparsable
};
const char* MirrorOutcomeName(MirrorOutcome o);

// One mirrored request: what was sent, and (filled in as it arrives) what the
// primary answered. Bodies are kept only when the sink asked for them.
struct MirrorExchange {
  std::string route;
  Mode mode = Mode::kLegacy;  // the route's configured mode
  std::string primary_backend;
  std::string mirror_backend;
  std::string request_id;
  std::string cohort_key;  // normalized, empty when none
  std::string method;
  std::string target;                                        // path + query as sent to the mirror
  std::vector<std::pair<std::string, std::string>> headers;  // as sent to the mirror
  std::string body;
  int64_t timestamp_us = 0;  // X-Ficus-Timestamp sent to both sides (writes), else 0

  int primary_status = 0;  // 0 = primary failed (proxy answered 502/504)
  std::string primary_body;
  // The primary's answer was over the route's compare.max_bytes: streamed
  // to the client, not kept, not compared.
  bool primary_too_large = false;

  bool write = false;                  // method changes state
  bool mirror_to_legacy = false;       // the copy goes to the route's legacy backend
  bool durable_before_answer = false;  // see the header comment
  uint64_t journal_id = 0;             // set once persisted (durable_before_answer)
  int64_t dispatched_us = 0;           // steady clock (µs since its epoch) when the copy was sent
};

// One primary answer of a routed request.
struct PrimaryObservation {
  std::string_view route;
  bool modern = false;  // served by the modern backend
  int status = 0;       // HTTP status from the backend; 0 = no answer (proxy sent 502/504)
  bool timeout = false;
  int64_t latency_us = 0;
};

struct MirrorResult {
  MirrorOutcome outcome = MirrorOutcome::kOk;
  int status = 0;
  std::string body;  // only when WantsBodies()
  int64_t latency_us = 0;
};

class MirrorSink {
 public:
  virtual ~MirrorSink() = default;
  // True: the proxy keeps request/primary/mirror bodies for the callbacks.
  [[nodiscard]] virtual bool WantsBodies() const = 0;
  // The copy was never sent (overflow, target unhealthy).
  virtual void OnDropped(const MirrorExchange& ex, MirrorOutcome why) = 0;
  // The copy was sent; `result` tells how it went.
  virtual void OnCompleted(const MirrorExchange& ex, const MirrorResult& result) = 0;

  virtual void OnPrimary(const PrimaryObservation&) {}
  // The copy is about to be sent (OnCompleted follows); not called for drops.
  virtual void OnDispatched(const MirrorExchange&) {}
  [[nodiscard]] virtual bool NeedsDurableBeforeAnswer(const MirrorExchange&) const { return false; }
  // Admission: a write whose copy goes to legacy and must be persisted is
  // refused (503 + Retry-After, nothing sent anywhere) while this returns a
  // reason, e.g. the replay log is full and could not keep the copy.
  [[nodiscard]] virtual std::optional<std::string> RefuseWrite(std::string_view /*route*/) {
    return std::nullopt;
  }
  // Read-your-writes: true when a write of `user` may not have reached
  // `backend` yet (`legacy`: it is the route's legacy side), i.e. a request
  // of that user served there could miss it. The proxy then serves the user
  // from the other side, while that side has nothing pending for the user.
  [[nodiscard]] virtual bool PendingTowards(std::string_view /*user*/,
                                            const std::string& /*backend*/, bool /*legacy*/) const {
    return false;
  }
  // `done` may run on any thread, exactly once.
  virtual void Persist(
      const MirrorExchange&, bool /*in_flight*/,
      std::function<void(uint64_t id)> done) {  // NOLINT(performance-unnecessary-value-param)
    done(0);
  }
};

// Default sink: nothing beyond the proxy's own counters.
class NullMirrorSink final : public MirrorSink {
 public:
  [[nodiscard]] bool WantsBodies() const override { return false; }
  void OnDropped(const MirrorExchange&, MirrorOutcome) override {}
  void OnCompleted(const MirrorExchange&, const MirrorResult&) override {}
};

inline const char* MirrorOutcomeName(MirrorOutcome o) {
  switch (o) {
    case MirrorOutcome::kOk:
      return "ok";
    case MirrorOutcome::kOverflow:
      return "overflow";
    case MirrorOutcome::kUnhealthy:
      return "unhealthy";
    case MirrorOutcome::kConnectError:
      return "connect_error";
    case MirrorOutcome::kTimeout:
      return "timeout";
    case MirrorOutcome::kIoError:
      return "io_error";
  }
  return "unknown";
}

}  // namespace ficus::proxy
