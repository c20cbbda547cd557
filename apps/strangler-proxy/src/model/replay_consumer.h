// ReplayConsumer: a few worker threads that Claim() records from the replay
// log, hand each to the ReplaySender (blocking HTTP to its backend) and
// Complete() it with the outcome; the log applies per-user order and
// backoff. Stop() waits for the sends in flight.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "model/file_replay_log.h"

namespace ficus::proxy {

class ReplaySender {
 public:
  virtual ~ReplaySender() = default;
  // Blocking send of one record to record.backend; thread-safe.
  virtual ReplayOutcome Send(const ReplayRecord& record) = 0;
};

class ReplayConsumer {
 public:
  ReplayConsumer(FileReplayLog& log, ReplaySender& sender, int threads = 2);
  ~ReplayConsumer();  // Stop()
  void Start();
  void Stop();  // waits for in-flight sends to finish

 private:
  void Run();
  FileReplayLog& log_;
  ReplaySender& sender_;
  int threads_count_;
  std::atomic<bool> running_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ficus::proxy
