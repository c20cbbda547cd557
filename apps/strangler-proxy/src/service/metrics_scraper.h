// PeriodicScraper: fetches one HTTP URL (a /metrics page) at a fixed
// interval on its own thread and hands each answer to a callback. Used for
// the binlog follower's /metrics (the proxy's `cdc:` config); knows nothing
// of what the text means.
//
// Contract:
// - Every round calls target(): nullopt = nothing to scrape now (idle() is
//   called, the thread sleeps one second and asks again), else one GET of
//   target.path on target.host:port (packages/http SyncClient, one kept-alive
//   connection, reopened when the target changes) bounded by target.timeout;
//   the body is read up to 1 MiB.
// - on_result(target, body) gets the body of a 200 answer, or an error:
//   kUnavailable (refused, reset, or "HTTP <status>" for another status),
//   kTimeout, kTooLarge. The next round starts `interval` after this one
//   started (at once if the scrape took longer).
// - Start() once; Stop() wakes the thread and joins it (at most one scrape
//   timeout later). Callbacks run on the scraper's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ficus/result.h"

namespace ficus::proxy {

struct ScrapeTarget {
  std::string url;   // as configured (handed back to on_result; not parsed here)
  std::string host;  // IP literal or localhost
  uint16_t port = 0;
  std::string path = "/metrics";
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{1000};
};

class PeriodicScraper {
 public:
  using TargetFn = std::function<std::optional<ScrapeTarget>()>;
  using ResultFn = std::function<void(const ScrapeTarget&, const Result<std::string>& body)>;

  PeriodicScraper(TargetFn target, ResultFn on_result, std::function<void()> idle);
  ~PeriodicScraper();
  PeriodicScraper(const PeriodicScraper&) = delete;
  PeriodicScraper& operator=(const PeriodicScraper&) = delete;

  void Start();
  void Stop();

 private:
  void Loop();

  TargetFn target_;
  ResultFn on_result_;
  std::function<void()> idle_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ficus::proxy
