// A concurrent set of byte strings claimed by requests in progress (used for
// Idempotency-Key "in progress" detection). Thread-safe; claims are
// process-local and vanish with the process, which is what the contract
// wants: a crash mid-request leaves no record, so the client retries.
#pragma once

#include <mutex>
#include <string>
#include <unordered_set>

namespace ficus::writer {

class InFlightKeys {
 public:
  // True if `key` was free and is now claimed by the caller.
  bool TryClaim(const std::string& key) {
    std::lock_guard lock(mu_);
    return keys_.insert(key).second;
  }
  void Release(const std::string& key) {
    std::lock_guard lock(mu_);
    keys_.erase(key);
  }

 private:
  std::mutex mu_;
  std::unordered_set<std::string> keys_;
};

}  // namespace ficus::writer
