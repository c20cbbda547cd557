#include "domain/write_tracker.h"

#include <algorithm>

namespace ficus::proxy {

void WriteTracker::Begin(std::string_view user, bool to_legacy) {
  if (user.empty()) return;
  std::lock_guard lock(mu_);
  auto it = users_.find(user);  // no std::string (an allocation) for a known user
  if (it == users_.end()) it = users_.emplace(std::string(user), State{}).first;
  it->second.inflight++;
  if (to_legacy) it->second.inflight_to_legacy++;
}

bool WriteTracker::End(std::string_view user, int64_t now_us, int64_t window_us, bool to_legacy) {
  if (user.empty()) return false;
  std::lock_guard lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  if (it->second.inflight > 0) it->second.inflight--;
  if (to_legacy && it->second.inflight_to_legacy > 0) it->second.inflight_to_legacy--;
  const bool race = it->second.inflight > 0 || it->second.busy_until_us >= now_us - window_us;
  it->second.busy_until_us = std::max(it->second.busy_until_us, now_us);
  // At most one sweep a second: when every user was busy within the idle
  // time a sweep frees nothing, and one per write would scan the whole map.
  if (users_.size() > max_users_ && now_us >= next_sweep_us_) {
    SweepLocked(now_us);
    next_sweep_us_ = now_us + 1'000'000;
  }
  return race;
}

void WriteTracker::Pending(std::string_view user, int64_t until_us) {
  if (user.empty()) return;
  std::lock_guard lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) it = users_.emplace(std::string(user), State{}).first;
  it->second.busy_until_us = std::max(it->second.busy_until_us, until_us);
}

bool WriteTracker::MayRace(std::string_view user, int64_t now_us, int64_t window_us) const {
  if (user.empty()) return false;
  std::lock_guard lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  return it->second.inflight > 0 || it->second.busy_until_us >= now_us - window_us;
}

bool WriteTracker::InFlightTo(std::string_view user, bool to_legacy) const {
  if (user.empty()) return false;
  std::lock_guard lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  const uint32_t legacy = it->second.inflight_to_legacy;
  return to_legacy ? legacy > 0 : it->second.inflight > legacy;
}

size_t WriteTracker::size() const {
  std::lock_guard lock(mu_);
  return users_.size();
}

void WriteTracker::SweepLocked(int64_t now_us) {
  // Idle for 10 s: no copy of theirs can still be racing.
  constexpr int64_t kIdleUs = 10'000'000;
  for (auto it = users_.begin(); it != users_.end();) {
    if (it->second.inflight == 0 && it->second.busy_until_us < now_us - kIdleUs) {
      it = users_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ficus::proxy
