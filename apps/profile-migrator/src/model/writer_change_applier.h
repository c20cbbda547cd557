// WriterChangeApplier: the follower's ChangeApplier over the profile
// writer's HTTP API.
//
// Two paths, chosen at the first call (the store's HasBulk probe):
//   - bulk (a token in the store options and a writer that has the bulk
//     endpoints): the updates go out as NDJSON records of
//     POST /internal/profile/import (atomic=none: each record stands
//     alone), in requests of at most `max_records` records and about
//     `max_body_bytes`, `bulk_workers` requests in flight, each one group
//     commit in the writer; LiveKeys reads up to 2000 users per
//     POST /internal/profile/get.
//   - single (no token, or the writer answers the probe with 404: an older
//     writer): one POST /api/v2/profile/update with X-Ficus-Timestamp per
//     update, split over `workers` keep-alive connections by user; LiveKeys
//     is one GET per user.
// On both, a 4xx for one update is returned as rejected. A record the
// writer could not apply now (bulk result 500), a connection that stays
// unreachable past the store's retry deadline, or a nonsense answer fail
// the call with Unavailable (the caller retries the whole call). A bulk
// request refused as a whole (token refused, body too large) fails with
// InvalidArgument. Not thread-safe: one caller at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "model/change_applier.h"
#include "model/modern_store.h"

namespace ficus::migrator {

struct WriterApplierOptions {
  int workers = 16;      // single path: connections
  int bulk_workers = 4;  // bulk path: requests in flight
  bool bulk = true;      // false: never probe, single path
  // Per import request (writer: 10,000). bulk_workers x max_records stays
  // well under the writer's write queue (--queue-size, 8192 by default), which
  // proxy mirrors share: past it the writer answers 503 + Retry-After: 1 and
  // the batch waits a second (bench/RESULTS.md, CDC follower runs).
  std::size_t max_records = 1'000;
  std::size_t max_body_bytes = std::size_t{15} << 20;  // per import request (writer: 16 MiB)
  std::size_t min_records = 500;                // below this a batch is not split over bulk_workers
  std::function<void(const std::string&)> log;  // told which path was chosen
};

std::unique_ptr<ChangeApplier> MakeWriterChangeApplier(ModernStoreFactory factory,
                                                       WriterApplierOptions options);

// The import requests a batch of updates becomes: consecutive index ranges
// [first, last) of `updates`, each within max_records and max_body_bytes
// (a record's NDJSON size bounded from above: every byte of a string
// counted as escaped to \u00XX, so no request can pass the limit), cut
// into at least min(parallel, n / min_records) pieces of similar size so
// that `parallel` requests can be in flight. Pure; exposed for tests.
std::vector<std::pair<std::size_t, std::size_t>> PlanImportRequests(
    const std::vector<ProfileUpdate>& updates, std::size_t max_records, std::size_t max_body_bytes,
    std::size_t parallel, std::size_t min_records);

}  // namespace ficus::migrator
