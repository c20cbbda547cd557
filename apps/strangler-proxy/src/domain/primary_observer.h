// PrimaryObserver: every primary answer of a routed request (for live
// rates, latencies and the auto-fallback detector). Called on the request's
// loop, after the answer is known and before it is sent; must not block;
// thread-safe across loops.
#pragma once

#include <cstdint>
#include <string_view>

namespace ficus::proxy {

// One primary answer of a routed request.
struct PrimaryObservation {
  std::string_view route;
  bool modern = false;  // served by the modern backend
  int status = 0;       // HTTP status from the backend; 0 = no answer (proxy sent 502/504)
  bool timeout = false;
  int64_t latency_us = 0;
};

class PrimaryObserver {
 public:
  virtual ~PrimaryObserver() = default;
  virtual void OnPrimary(const PrimaryObservation& obs) = 0;
};

class NoPrimaryObserver final : public PrimaryObserver {
 public:
  void OnPrimary(const PrimaryObservation&) override {}
};

}  // namespace ficus::proxy
