// Which users `verify` looks at: all, a fixed number, or a percentage.
//
// A percentage is decided per user by a stable hash of (seed, user id), so
// the same seed always picks the same users whatever the partitioning; a
// count N picks N users uniformly (reservoir sampling, seeded).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::migrator {

struct SampleSpec {
  enum class Kind { kAll, kCount, kPercent } kind = Kind::kAll;
  std::int64_t count = 0;
  double percent = 0;
  std::uint64_t seed = 1;
};

// "N" (users, N >= 1) or "P%" (0 < P <= 100). Errors name --sample.
Result<SampleSpec> ParseSample(std::string_view text);

std::uint64_t StableHash(std::uint64_t seed, std::string_view id);  // FNV-1a 64
bool PercentSelects(const SampleSpec& spec, std::string_view user_id);

// Reservoir of `count` ids; Offer() every id once, then Take() (sorted).
class Reservoir {
 public:
  Reservoir(std::int64_t count, std::uint64_t seed) : count_(count), rng_(seed) {}
  void Offer(const std::string& id);
  std::vector<std::string> Take();

 private:
  std::int64_t count_;
  std::int64_t seen_ = 0;
  std::mt19937_64 rng_;
  std::vector<std::string> ids_;
};

}  // namespace ficus::migrator
