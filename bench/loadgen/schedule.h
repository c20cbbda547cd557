// ArrivalSchedule: the intended send times of an open-loop load, fixed in
// advance and independent of how fast the server answers (so a slow answer
// never delays or thins out the requests behind it: no coordinated
// omission).
//
//   ArrivalSchedule s(Arrival::kPoisson, 40000.0, /*seed=*/7);
//   std::uint64_t t = s.Next();   // ns after the start, non-decreasing
//
// kConstant: request i at exactly floor(i * 1e9 / rate) ns (no drift from
// summing rounded intervals). kPoisson: exponential gaps with mean 1/rate
// (a Poisson process: bursts and lulls as from many independent clients),
// deterministic for a seed.
//
// Threads: none; one schedule per load thread (split the rate: the sum of
// independent Poisson processes is a Poisson process of the summed rate).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace ficus::bench {

enum class Arrival { kConstant, kPoisson };
std::optional<Arrival> ParseArrival(std::string_view name);  // "constant" | "poisson"

class ArrivalSchedule {
 public:
  // rate > 0 requests per second.
  ArrivalSchedule(Arrival kind, double rate, std::uint64_t seed);
  std::uint64_t Next();

 private:
  Arrival kind_;
  double rate_;
  std::uint64_t index_ = 0;
  long double t_ = 0;  // Poisson: running sum in ns
  std::mt19937_64 rng_;
  std::exponential_distribution<long double> gap_;
};

}  // namespace ficus::bench
