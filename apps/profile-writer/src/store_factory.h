// Store factory: which ProfileStore `--store` names, keyed by its scheme.
//
//   rocksdb            the embedded RocksDB store in --data-dir (default)
//   scylla://...       a ScyllaDB / Cassandra cluster (scylla_store_url.h)
//
// A new backend is one row in the table (store_factory.cc) plus its own
// instance of the ProfileStore conformance suite
// (model/profile_store_conformance.h). OpenStore registers the store's
// metrics; errors name --store and the store's own reason.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config.h"
#include "ficus/clock.h"
#include "ficus/metrics.h"
#include "ficus/result.h"
#include "model/profile_store.h"

namespace ficus::writer {

// The scheme of a --store value: "rocksdb", or the part before "://".
std::string_view StoreScheme(std::string_view store);

Result<std::unique_ptr<ProfileStore>> OpenStore(const Config& cfg, MetricsRegistry& metrics,
                                                Clock& clock);

}  // namespace ficus::writer
