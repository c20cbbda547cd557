// WriteTracker: which users have a mirrored write that the mirror target may
// not have applied yet, so that comparing another answer of theirs would
// report a false mismatch (a read mirrored to modern overtaking the write
// mirrored just before it, two writes of one user applied out of order).
//
// Contract:
// - Begin(user) when a write's copy is dispatched, End(user, now) when it
//   completed (any outcome); End() returns MayRace() as it was for this
//   write itself (another write of the user in flight or completed within
//   `window`). Pending(user, until) when the write went to the
//   replay log instead: the user counts as racing until `until`.
// - MayRace(user, now, window) is true while one of the user's write copies
//   is in flight, or one completed less than `window` ago (the compared
//   copy may have reached the target before it: window = that copy's round
//   trip), or the user has a write pending in the replay log.
// - InFlightTo(user, to_legacy): a write copy of the user towards that side
//   (Begin/End with the same `to_legacy`) is still in flight: that side may
//   not have the write yet (read-your-writes routes around it).
// - Entries of idle users are swept once the map passes `max_users` (at
//   most once a second).
// An empty user key never races (no key: nothing to relate). Times in µs.
// Threads: thread-safe (one mutex). No I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ficus::proxy {

class WriteTracker {
 public:
  explicit WriteTracker(size_t max_users = 100000) : max_users_(max_users) {}
  void Begin(std::string_view user, bool to_legacy = false);
  bool End(std::string_view user, int64_t now_us, int64_t window_us = 0, bool to_legacy = false);
  [[nodiscard]] bool InFlightTo(std::string_view user, bool to_legacy) const;
  void Pending(std::string_view user, int64_t until_us);
  [[nodiscard]] bool MayRace(std::string_view user, int64_t now_us, int64_t window_us) const;
  [[nodiscard]] size_t size() const;

 private:
  struct State {
    uint32_t inflight = 0;
    uint32_t inflight_to_legacy = 0;  // of `inflight`
    int64_t busy_until_us = 0;        // last completion, or end of a replay-pending period
  };
  void SweepLocked(int64_t now_us);
  // Heterogeneous lookup: no std::string per query on the request path.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const size_t max_users_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State, Hash, std::equal_to<>> users_;
  int64_t next_sweep_us_ = 0;  // guarded by mu_
};

}  // namespace ficus::proxy
