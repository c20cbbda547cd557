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
// instance is shared by all loops). For one exchange OnDispatched precedes
// OnCompleted; exactly one of OnDropped / OnCompleted is called, and
// OnCompleted only after both the mirror outcome and the primary response
// are known.
//
// The proxy's other hooks, each its own small interface:
//   durable_writes.h   persist a write's copy before the answer (lossless
//                      rollback) and refuse writes that cannot be kept;
//   primary_observer.h every primary answer of a routed request;
//   pending_writes.h   read-your-writes: a user's writes not yet on a side.
#pragma once
#pragma once

#include <cstdint>
#include <string>
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
  uint64_t replay_seq = 0;             // set once persisted (durable_before_answer)
  int64_t dispatched_us = 0;           // steady clock (µs since its epoch) when the copy was sent
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
  // True: the proxy keeps request/primary/mirror bodies for the callbacks
  // (and, for the user key, consults the cohort outside canary too).
  [[nodiscard]] virtual bool WantsBodies() const = 0;
  // The copy is about to be sent (OnCompleted follows); not called for drops.
  virtual void OnDispatched(const MirrorExchange&) {}
  // The copy was never sent (overflow, target unhealthy).
  virtual void OnDropped(const MirrorExchange& ex, MirrorOutcome why) = 0;
  // The copy was sent; `result` tells how it went.
  virtual void OnCompleted(const MirrorExchange& ex, const MirrorResult& result) = 0;
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
