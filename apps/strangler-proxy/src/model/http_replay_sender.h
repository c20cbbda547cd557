// HttpReplaySender: delivers replay-log records to their backend over real
// HTTP/1.1 (the proxy's own upstream client, keep-alive per sender thread).
//
// Contract: Send() blocks the calling thread (a ReplayConsumer worker, never
// an event loop) for at most the connect + response timeout. The record's
// method, target, headers (X-Ficus-Timestamp included, so the store stamps
// the write exactly as the original) and body are sent as recorded, plus
// `X-Ficus-Replay: 1`. Outcome: 2xx delivered; 408, 409 (same Idempotency-
// Key still in flight), 429, 5xx, connect/timeout/IO errors retry; any other
// status is a permanent refusal (rejected, counted, logged). A backend name
// the current config does not know retries (it may come back on reload).
// `delivered` (optional) runs on the sending thread after each record the
// backend accepted (the control plane marks that user's answers as raced).
// Threads: Send() is thread-safe (each thread has its own io_context).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "ficus/http/client.h"
#include "model/replay_consumer.h"

namespace ficus::proxy {

class HttpReplaySender final : public ReplaySender {
 public:
  using Resolve = std::function<std::optional<http::ClientTarget>(const std::string& backend)>;
  using Delivered = std::function<void(const ReplayRecord& record)>;
  explicit HttpReplaySender(Resolve resolve, uint32_t response_timeout_ms = 5000,
                            Delivered delivered = nullptr);
  ReplayOutcome Send(const ReplayRecord& record) override;

  // Maps an answer to an outcome (status 0 = no answer).
  static ReplayOutcome OutcomeFor(int status);

 private:
  Resolve resolve_;
  uint32_t response_timeout_ms_;
  Delivered delivered_;
  std::atomic<uint64_t> log_budget_{0};
};

}  // namespace ficus::proxy
