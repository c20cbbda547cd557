// scylla_store_bench: drives ScyllaProfileStore directly (no HTTP) with a
// fixed number of updates in flight, and prints writes/s, latency and
// writes/s per CQL connection. Needs a real cluster with the schema applied
// (`profile-writer schema apply`); see bench/scylla/README.md.
//
//   scylla_store_bench --store 'scylla://10.0.0.1,10.0.0.2/ficus?local_dc=dc1'
//       --in-flight 256 --duration-s 30 --users 100000 --keys 4   (one line)
//
// Each update: `--keys` random keys of a random user (uniform over
// `--users`), values of `--value-bytes`, stamped with the wall clock.
// A benchmark, not a test: it prints figures for bench/RESULTS.md.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "model/scylla_profile_store.h"

using ficus::Result;
using ficus::writer::ApplyRequest;
using ficus::writer::ParseScyllaStoreUrl;
using ficus::writer::Profile;
using ficus::writer::ScyllaProfileStore;
using ficus::writer::ScyllaStoreOptions;
using Clock = std::chrono::steady_clock;

namespace {

struct Bench {
  std::unique_ptr<ScyllaProfileStore> store;
  unsigned keys = 4;
  unsigned value_bytes = 32;
  std::uint64_t users = 100000;
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
  std::atomic<std::uint64_t> ok{0}, failed{0}, in_flight{0};
  std::mutex mu;  // guards rng, latencies_us, first_error
  std::mt19937_64 rng{42};
  std::vector<std::uint32_t> latencies_us;
  std::string first_error;

  ApplyRequest Next() {
    std::lock_guard lock(mu);
    ApplyRequest r;
    std::uint64_t u = rng() % users;
    for (int i = 0; i < 8; ++i) r.update.user[i] = static_cast<std::uint8_t>(u >> (8 * i));
    r.update.user[6] = static_cast<std::uint8_t>((r.update.user[6] & 0x0F) | 0x40);
    r.update.ts_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string value(value_bytes, 'v');
    for (unsigned k = 0; k < keys; ++k) {
      value[0] = static_cast<char>('a' + rng() % 26);
      r.update.attributes["attr_" + std::to_string(rng() % 64)] = value;
    }
    return r;
  }

  void Issue() {
    if (stop) return;
    ++in_flight;
    auto start = Clock::now();
    store->Apply(Next(), [this, start](Result<Profile> r) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
      if (measuring) {
        if (r) {
          ++ok;
        } else {
          ++failed;
        }
        std::lock_guard lock(mu);
        if (r && latencies_us.size() < 5000000)
          latencies_us.push_back(static_cast<std::uint32_t>(us));
        if (!r && first_error.empty()) first_error = r.error().message;
      }
      --in_flight;
      Issue();  // keep the window full (Apply never blocks)
    });
  }
};

double Percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"scylla_store_bench: ScyllaProfileStore writes/s at N in flight (no HTTP)"};
  std::string store_url;
  unsigned in_flight = 256, duration_s = 30, warmup_s = 3;
  Bench b;
  app.add_option("--store", store_url, "scylla://hosts/keyspace?... (schema applied)")->required();
  app.add_option("--in-flight", in_flight, "updates in flight (1..100000)");
  app.add_option("--duration-s", duration_s, "measured seconds");
  app.add_option("--warmup-s", warmup_s, "unmeasured seconds first");
  app.add_option("--users", b.users, "distinct users");
  app.add_option("--keys", b.keys, "attributes per update (1..64)");
  app.add_option("--value-bytes", b.value_bytes, "bytes per value (1..1024)");
  CLI11_PARSE(app, argc, argv);
  if (in_flight < 1 || in_flight > 100000 || b.keys < 1 || b.keys > 64 || b.value_bytes < 1 ||
      b.value_bytes > 1024 || b.users < 1) {
    std::fprintf(stderr, "scylla_store_bench: an option is out of range (see --help)\n");
    return 2;
  }
  auto url = ParseScyllaStoreUrl(store_url);
  if (!url) {
    std::fprintf(stderr, "scylla_store_bench: --store: %s\n", url.error().message.c_str());
    return 2;
  }
  url->max_in_flight = std::max<std::size_t>(url->max_in_flight, in_flight);
  ScyllaStoreOptions o;
  o.url = *url;
  if (const char* pw = std::getenv("FICUS_WRITER_SCYLLA_PASSWORD")) o.password = pw;
  auto store = ScyllaProfileStore::Open(o);
  if (!store) {
    std::fprintf(stderr, "scylla_store_bench: %s\n", store.error().message.c_str());
    return 1;
  }
  b.store = std::move(*store);
  if (auto st = b.store->WaitReady(std::chrono::seconds(30)); !st) {
    std::fprintf(stderr, "scylla_store_bench: %s\n", st.error().message.c_str());
    return 1;
  }
  for (unsigned i = 0; i < in_flight; ++i) b.Issue();
  std::this_thread::sleep_for(std::chrono::seconds(warmup_s));
  b.measuring = true;
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(duration_s));
  b.measuring = false;
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::size_t conns = b.store->OpenConnections();
  b.stop = true;
  (void)b.store->Close();

  std::lock_guard lock(b.mu);
  double rate = static_cast<double>(b.ok.load()) / secs;
  std::printf("store=%s\nin_flight=%u keys=%u value_bytes=%u users=%llu duration_s=%.1f\n",
              store_url.c_str(), in_flight, b.keys, b.value_bytes,
              static_cast<unsigned long long>(b.users), secs);
  std::printf("writes_ok=%llu writes_failed=%llu writes_per_s=%.0f\n",
              static_cast<unsigned long long>(b.ok.load()),
              static_cast<unsigned long long>(b.failed.load()), rate);
  std::printf("latency_ms p50=%.2f p99=%.2f p999=%.2f\n", Percentile(b.latencies_us, 0.50),
              Percentile(b.latencies_us, 0.99), Percentile(b.latencies_us, 0.999));
  std::printf("connections=%zu writes_per_s_per_connection=%.0f in_flight_per_connection=%.1f\n",
              conns, conns ? rate / static_cast<double>(conns) : 0.0,
              conns ? static_cast<double>(in_flight) / static_cast<double>(conns) : 0.0);
  if (!b.first_error.empty()) std::printf("first_error=%s\n", b.first_error.c_str());
  return b.failed.load() == 0 ? 0 : 1;
}
