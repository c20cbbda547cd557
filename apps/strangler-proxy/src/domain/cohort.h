// Cohort assignment: a stable, documented hash shared by every replica and tool.
//
// The hashed byte string is exactly  salt ":" key  where key is the value
// found in the request with surrounding blanks trimmed and ASCII letters
// lowered (so a UUID in any case is one user). The hash is XXH3-64 with
// seed 0 (libxxhash XXH3_64bits), read as an unsigned 64-bit integer. A
// user is in the canary when  hash % 10000 < percent_bp  (percent * 100).
//
// PHP computes the same:
//   $h = hash('xxh3', $salt . ':' . strtolower(trim($key)));   // 16 hex digits, big-endian
//   // hash % 10000 without GMP: 2^32 % 10000 == 7296
//   $bucket = ((hexdec(substr($h, 0, 8)) % 10000) * 7296 + hexdec(substr($h, 8, 8))) % 10000;
//   $in = $bucket < round($percent * 100);
// Vector (checked against PHP 8.2): salt "ficus-1", key
// "6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11" -> f74fcad7e273e4fb, bucket 7483.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/config.h"

namespace ficus::proxy {

std::string NormalizeCohortKey(std::string_view key);
uint64_t CohortHash(std::string_view salt, std::string_view normalized_key);
uint32_t CohortBucket(std::string_view salt, std::string_view normalized_key);  // 0..9999
bool InCanary(uint32_t bucket, uint32_t percent_bp);

// Request facts the key extractor may read. `header` returns the value of a
// header (case-insensitive name) or nullopt; `body` is the buffered body
// (only consulted for json: sources).
struct KeyInputs {
  std::function<std::optional<std::string_view>(std::string_view)> header;
  std::string_view query;  // raw query string, without '?'
  std::string_view body;
};

// First present, non-empty key of the cohort's sources, normalized; nullopt
// when none is present. A body that is not a JSON object yields no key.
std::optional<std::string> ExtractCohortKey(const Cohort& cohort, const KeyInputs& in);

// Value of query parameter `name` (percent-decoded, '+' as space), or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace ficus::proxy
