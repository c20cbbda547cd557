#include "domain/sampler.h"

#include <algorithm>
#include <charconv>

namespace ficus::migrator {

Result<SampleSpec> ParseSample(std::string_view text) {
  SampleSpec s;
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--sample: '" + std::string(text) +
                         "' must be a count of users (e.g. 1000) or a percentage (e.g. 5%)");
  };
  if (text.empty()) return bad();
  if (text.back() == '%') {
    const std::string num(text.substr(0, text.size() - 1));
    double p = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
    if (ec != std::errc() || ptr != num.data() + num.size() || !(p > 0) || p > 100) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--sample: percentage '" + std::string(text) + "' must be in (0, 100]");
    }
    s.kind = SampleSpec::Kind::kPercent;
    s.percent = p;
    return s;
  }
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) return bad();
  if (n < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--sample: count must be at least 1");
  }
  s.kind = SampleSpec::Kind::kCount;
  s.count = n;
  return s;
}

std::uint64_t StableHash(std::uint64_t seed, std::string_view id) {
  std::uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

bool PercentSelects(const SampleSpec& spec, std::string_view user_id) {
  if (spec.kind != SampleSpec::Kind::kPercent) return true;
  const std::uint64_t slot = StableHash(spec.seed, user_id) % 1'000'000;
  return double(slot) < spec.percent * 10'000;
}

void Reservoir::Offer(const std::string& id) {
  ++seen_;
  if (static_cast<std::int64_t>(ids_.size()) < count_) {
    ids_.push_back(id);
    return;
  }
  std::uniform_int_distribution<std::int64_t> pick(0, seen_ - 1);
  const std::int64_t j = pick(rng_);
  if (j < count_) ids_[static_cast<std::size_t>(j)] = id;
}

std::vector<std::string> Reservoir::Take() {
  std::sort(ids_.begin(), ids_.end());
  return std::move(ids_);
}

}  // namespace ficus::migrator
