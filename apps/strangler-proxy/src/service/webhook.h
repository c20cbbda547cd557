// Webhooks of the autopilot: JSON POSTs to an operator's HTTP endpoint.
//
// PostJson(): one POST of `body` (application/json) to `url`, the whole
// exchange within `timeout`; the answer's status, or kUnavailable/kTimeout.
// Blocking: call it off any event loop.
//
// Notifier: posts notifications in the background, in order, one at a time,
// each within `timeout`; at most `max_queue` wait (more are dropped and
// counted: a dead chat hook must never slow the autopilot). Failures are
// logged and counted, never retried. Stop() (or the destructor) finishes the
// post in flight and drops the rest. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "ficus/result.h"

namespace ficus::proxy {

struct HttpEndpoint {
  std::string host;  // IP literal
  uint16_t port = 0;
  std::string target = "/";
  [[nodiscard]] std::string ToString() const;
};

Result<unsigned> PostJson(const HttpEndpoint& to, const std::string& body,
                          std::chrono::milliseconds timeout);

class Notifier {
 public:
  explicit Notifier(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                    size_t max_queue = 100);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Post(const HttpEndpoint& to, std::string body);
  void Stop();

  struct Counts {
    uint64_t sent = 0;     // answered 2xx
    uint64_t failed = 0;   // no answer in time, or not 2xx
    uint64_t dropped = 0;  // queue full
  };
  Counts counts() const;

 private:
  void Run();
  const std::chrono::milliseconds timeout_;
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<HttpEndpoint, std::string>> queue_;
  bool stopping_ = false;
  Counts counts_;
  std::thread thread_;
};

}  // namespace ficus::proxy
