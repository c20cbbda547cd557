// MismatchRing: per-route comparison counters and the last N mismatches.
//
// Contract:
// - RecordMatch()/RecordMismatch() count every comparison of a route;
//   mismatches are also kept, newest last, at most `capacity` per route (the
//   oldest is dropped). Bodies longer than `max_body_bytes` are cut and
//   marked with a trailing "..." so one huge answer cannot eat memory.
// - Each kept mismatch gets a process-wide increasing `seq`.
// - Recent() returns copies, newest first; an empty route name means all
//   routes (merged by seq).
// - MismatchToJson() renders one record in the admin API shape
//   (/work/notes/admin-api.md, GET /admin/mismatches).
// Threads: all methods are thread-safe (one mutex; the critical sections
// move strings, they never copy bodies under the lock except in Recent()).
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/json_diff.h"

namespace ficus::proxy {

struct MismatchRecord {
  uint64_t seq = 0;     // assigned by the ring
  int64_t time_ms = 0;  // Unix ms, set by the caller
  std::string route;
  std::string request_id;
  std::string user_key;
  std::string method;
  std::string path;
  int legacy_status = 0;
  int modern_status = 0;
  std::string legacy_body;
  std::string modern_body;
  std::vector<FieldDiff> diffs;
};

struct MismatchCounters {
  uint64_t compared = 0;
  uint64_t mismatched = 0;
  [[nodiscard]] double Rate() const {
    return compared == 0 ? 0.0 : static_cast<double>(mismatched) / static_cast<double>(compared);
  }
};

class MismatchRing {
 public:
  explicit MismatchRing(size_t capacity = 100, size_t max_body_bytes = size_t{16} * 1024);

  void RecordMatch(std::string_view route);
  void RecordMismatch(MismatchRecord record);

  [[nodiscard]] std::vector<MismatchRecord> Recent(std::string_view route, size_t limit) const;
  [[nodiscard]] MismatchCounters Counters(std::string_view route) const;
  [[nodiscard]] size_t capacity() const { return capacity_; }

 private:
  struct PerRoute {
    MismatchCounters counters;
    std::deque<MismatchRecord> recent;
  };
  PerRoute& RouteLocked(std::string_view route);

  const size_t capacity_;
  const size_t max_body_bytes_;
  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;
  std::map<std::string, PerRoute, std::less<>> routes_;
};

boost::json::value MismatchToJson(const MismatchRecord& record);

}  // namespace ficus::proxy
