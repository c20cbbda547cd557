// WriteIntents: closes the proxy's kill -9 window of a write sent to both
// sides (issue 12: "a write that reached either side reaches both").
//
// Before a write leaves the proxy towards either side (a mirrored write:
// shadow, canary, full with the copy to legacy), the proxy records an
// intent (Add) and waits until the batch holding it is written (Flush, one
// write(2) per event-loop turn for every intent of that turn, no fsync: a
// process kill -9 keeps what reached the page cache). Once every side either
// acknowledged the write or has its replay record (written before), the
// proxy settles it (Settle). On start, every intent not settled is replayed
// to both sides from the replay log with the write's own X-Ficus-Timestamp
// (per-key last-write-wins makes a repeat a no-op; a write whose client saw
// an error may so land on both sides, never on one only).
//
// Threads: Add/Settle/Flush of one intent run on one thread (the request's
// event loop); different threads are independent (one batch each).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace ficus::proxy {

struct WriteIntent {
  std::string_view route;
  std::string_view user_key;  // per-user replay order; "" = shared lane
  std::string_view method;
  std::string_view legacy_backend, legacy_target;  // backend name, path + query
  std::string_view modern_backend, modern_target;
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // incl. X-Ficus-Timestamp
  std::string_view body;
};

class WriteIntents {
 public:
  virtual ~WriteIntents() = default;
  // Adds the intent to this thread's batch; its id (0: not recorded).
  virtual uint64_t Add(const WriteIntent& intent) = 0;
  // Every side has the write or its replay record: forget the intent.
  virtual void Settle(uint64_t id) = 0;
  // Writes this thread's batch (one write(2)); false: nothing to write.
  virtual bool Flush() = 0;
};

}  // namespace ficus::proxy
