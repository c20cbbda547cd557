#include "schedule.h"

namespace ficus::bench {

std::optional<Arrival> ParseArrival(std::string_view name) {
  if (name == "constant") return Arrival::kConstant;
  if (name == "poisson") return Arrival::kPoisson;
  return std::nullopt;
}

ArrivalSchedule::ArrivalSchedule(Arrival kind, double rate, std::uint64_t seed)
    : kind_(kind), rate_(rate), rng_(seed), gap_(static_cast<long double>(rate) / 1e9L) {}

std::uint64_t ArrivalSchedule::Next() {
  if (kind_ == Arrival::kConstant) {
    const long double t = static_cast<long double>(index_++) * 1e9L / rate_;
    return static_cast<std::uint64_t>(t);
  }
  const auto now = static_cast<std::uint64_t>(t_);
  t_ += gap_(rng_);
  return now;
}

}  // namespace ficus::bench
