// DurableWrites: lossless rollback. A write acknowledged by the proxy is on
// both sides or kept durably for the side that missed it.
//
// When the proxy builds an exchange it asks NeedsDurableBeforeAnswer(); if
// true (e.g. a write mirrored to legacy) the exchange carries
// durable_before_answer = true and, after the primary answered and BEFORE the
// client gets the answer, the proxy calls Persist(ex, in_flight, done) unless
// the mirror already finished with a 2xx. It waits for done(id) (id 0: could
// not persist; the answer still goes out, the implementation counts it).
// in_flight = true: the mirror is still running; the record is held and
// MirrorSink::OnCompleted (ex.replay_seq set) settles it. in_flight = false:
// the copy was dropped or failed; the record goes to replay at once. For
// such exchanges MirrorSink::OnDropped/OnCompleted must not persist the
// write again.
//
// RefuseWrite: a write whose copy goes to legacy and must be persisted is
// refused (503 + Retry-After, nothing sent anywhere) while it returns a
// reason, e.g. the replay log is full and could not keep the copy.
//
// Threads: called on the request's loop; thread-safe across loops; `done`
// may run on any thread, exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/mirror_sink.h"

namespace ficus::proxy {

class DurableWrites {
 public:
  virtual ~DurableWrites() = default;
  [[nodiscard]] virtual bool NeedsDurableBeforeAnswer(const MirrorExchange& ex) const = 0;
  virtual void Persist(const MirrorExchange& ex, bool in_flight,
                       std::function<void(uint64_t id)> done) = 0;
  [[nodiscard]] virtual std::optional<std::string> RefuseWrite(std::string_view route) = 0;
};

// Nothing is persisted before answering; no write is refused.
class NoDurableWrites final : public DurableWrites {
 public:
  [[nodiscard]] bool NeedsDurableBeforeAnswer(const MirrorExchange&) const override {
    return false;
  }
  void Persist(const MirrorExchange&, bool,
               std::function<void(uint64_t)> done) override {  // NOLINT
    done(0);
  }
  [[nodiscard]] std::optional<std::string> RefuseWrite(std::string_view) override {
    return std::nullopt;
  }
};

}  // namespace ficus::proxy
