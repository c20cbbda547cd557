#include "store_factory.h"

#include <array>
#include <vector>

#include "model/rocksdb_profile_store.h"
#include "scylla_cli.h"

namespace ficus::writer {
namespace {

Result<std::unique_ptr<ProfileStore>> OpenRocksDb(const Config& cfg, MetricsRegistry& metrics,
                                                  Clock& clock) {
  RocksDbStoreOptions o;
  o.path = cfg.data_dir;
  o.queue_capacity = cfg.queue_size;
  o.max_batch = cfg.max_batch;
  o.sync = !cfg.unsafe_no_sync;
  o.clock = &clock;
  FICUS_REGISTER_METRICS(ALL_ROCKSDB_STORE_METRICS, o.metrics, metrics, "ficus_writer_");
  auto rocks = RocksDbProfileStore::Open(o);
  if (!rocks) {
    return MakeError(rocks.error().code,
                     "cannot open store at " + cfg.data_dir + ": " + rocks.error().message);
  }
  const auto capacity = static_cast<double>(cfg.queue_size);
  metrics.AddCallbackGauge("ficus_writer_write_queue_capacity",
                           "Bound of the write queue (503 beyond).",
                           [capacity] { return capacity; });
  return std::unique_ptr<ProfileStore>(std::move(*rocks));
}

Result<std::unique_ptr<ProfileStore>> OpenScylla(const Config& cfg, MetricsRegistry& metrics,
                                                 Clock&) {
  // Connects in the background; /readyz is 503 until the cluster answers.
  auto scylla = OpenScyllaStore(cfg.store, metrics);
  if (!scylla) {
    return MakeError(scylla.error().code,
                     "cannot open store " + cfg.store + ": " + scylla.error().message);
  }
  return std::move(*scylla);
}

struct StoreKind {
  std::string_view scheme;
  Result<std::unique_ptr<ProfileStore>> (*open)(const Config&, MetricsRegistry&, Clock&);
};

constexpr std::array kStores = {StoreKind{"rocksdb", OpenRocksDb}, StoreKind{"scylla", OpenScylla}};

}  // namespace

std::string_view StoreScheme(std::string_view store) {
  const auto sep = store.find("://");
  return sep == std::string_view::npos ? store : store.substr(0, sep);
}

Result<std::unique_ptr<ProfileStore>> OpenStore(const Config& cfg, MetricsRegistry& metrics,
                                                Clock& clock) {
  const auto scheme = StoreScheme(cfg.store);
  for (const auto& kind : kStores) {
    if (kind.scheme == scheme) return kind.open(cfg, metrics, clock);
  }
  return MakeError(
      ErrorCode::kInvalidArgument,
      "--store: no store for scheme '" + std::string(scheme) + "' (rocksdb or scylla://...)");
}

}  // namespace ficus::writer
