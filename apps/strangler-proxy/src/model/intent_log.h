// IntentLog: the WriteIntents role (domain/write_intents.h) on files in the
// replay log's directory.
//
// On disk: intents-<writer>-<generation>.log, one writer per thread (event
// loop), each file "FIN1" then frames [u32 len][u32 crc32c][payload] with
// payload = u8 kind, u64 id, then for kind 1 (intent) route, user key,
// method, legacy backend, legacy target, modern backend, modern target,
// u32 header count, the headers (name, value), body (strings: u32 length +
// bytes); kind 2 (settled) nothing more. Little-endian.
//
// Writes: Add/Settle encode into the calling thread's buffer; Flush writes
// it with one write(2) and NO fsync: the intent survives a kill -9 of the
// process (the page cache is the kernel's), not a crash of the machine
// (then the window is as before: an unanswered write may be on one side
// only; answered writes are protected by the fsync'd replay records). A
// file past rotate_bytes is closed for a new one and deleted once every
// intent in it is settled; so the files stay small while writes settle.
//
// Recover(): run at start, before serving and before the replayer (the
// directory is the replay log's, locked by it): every intent without its
// settle frame is appended to the replay log twice, towards legacy and
// towards modern, fsync'd; then the intent files are deleted. A torn tail
// (the process died inside a write) ends a file's readable part.
//
// Threads: one Writer per thread (thread_local); Add/Settle/Flush on that
// thread only; FlushAll() when no writer thread runs any more (shutdown).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domain/write_intents.h"
#include "ficus/metrics.h"
#include "ficus/result.h"
#include "model/file_replay_log.h"

namespace ficus::proxy {

struct IntentLogStats {
  uint64_t added = 0;
  uint64_t settled = 0;
  uint64_t write_failures = 0;  // flushes whose write(2) failed: intents not kept
};

class IntentLog final : public WriteIntents {
 public:
  // Recovers the directory's unsettled intents into `replay` (see above) and
  // deletes the intent files. The number of intents recovered.
  static Result<uint64_t> Recover(const std::string& dir, FileReplayLog& replay);

  explicit IntentLog(std::string dir, uint64_t rotate_bytes = 4ull << 20);
  ~IntentLog() override;
  IntentLog(const IntentLog&) = delete;
  IntentLog& operator=(const IntentLog&) = delete;

  uint64_t Add(const WriteIntent& intent) override;
  void Settle(uint64_t id) override;
  bool Flush() override;
  // Flushes every thread's buffer (only once those threads stopped).
  void FlushAll();
  [[nodiscard]] IntentLogStats Stats() const;
  // ficus_proxy_write_intents_total{event="added|settled|write_failed"}
  // from Stats(); call once, at startup (the registry keeps `this`).
  void AddMetrics(MetricsRegistry& metrics) const;

 private:
  struct Writer;
  Writer& ThisThread();
  bool FlushWriter(Writer& w);

  const std::string dir_;
  const uint64_t rotate_bytes_;
  const uint64_t instance_;  // tells thread_local writers of different logs apart
  std::atomic<uint64_t> next_id_{1};
  std::mutex mu_;  // guards writers_ (registration only)
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<uint64_t> added_{0}, settled_{0}, write_failures_{0};
};

}  // namespace ficus::proxy
