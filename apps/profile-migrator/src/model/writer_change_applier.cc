#include "model/writer_change_applier.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace ficus::migrator {

namespace {

// Upper bound of one update's NDJSON record: every string byte escaped to
// six bytes (\u00XX), plus the punctuation and the stamp.
std::size_t RecordBound(const ProfileUpdate& u) {
  std::size_t n = 64 + 6 * u.user_id.size();
  for (const auto& [k, v] : u.attributes) n += 6 * k.size() + (v ? 6 * v->size() : 4) + 8;
  return n;
}

// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's
// included), each taking the next index.
template <typename Fn>
void ParallelFor(std::size_t n, std::size_t threads, Fn fn) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(n, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

class WriterChangeApplier final : public ChangeApplier {
 public:
  WriterChangeApplier(ModernStoreFactory factory, WriterApplierOptions o)
      : factory_(std::move(factory)),
        o_(std::move(o)),
        stores_(static_cast<std::size_t>(std::max({1, o_.workers, o_.bulk_workers}))) {}

  std::string Path() const override { return !bulk_ ? "" : *bulk_ ? "bulk" : "single"; }

  Result<std::vector<RejectedUpdate>> Apply(const std::vector<ProfileUpdate>& updates) override {
    if (updates.empty()) return std::vector<RejectedUpdate>{};
    auto bulk = Decide();
    if (!bulk) return tl::unexpected(bulk.error());
    return *bulk ? ApplyBulk(updates) : ApplySingle(updates);
  }

  Result<std::vector<std::vector<std::string>>> LiveKeys(
      const std::vector<std::string>& user_ids) override {
    std::vector<std::vector<std::string>> out(user_ids.size());
    if (user_ids.empty()) return out;
    auto bulk = Decide();
    if (!bulk) return tl::unexpected(bulk.error());
    auto store = Store(0);
    if (!store) return tl::unexpected(store.error());
    if (!*bulk) {
      for (std::size_t i = 0; i < user_ids.size(); ++i) {
        auto p = (*store)->Get(user_ids[i]);
        if (!p) {
          if (p.error().code == ErrorCode::kNotFound) continue;
          return MakeError(ErrorCode::kUnavailable, p.error().message);
        }
        for (const auto& [k, v] : p->attributes) out[i].push_back(k);
      }
      return out;
    }
    constexpr std::size_t kMaxIds = 2000;  // the writer's limit per bulk read
    for (std::size_t first = 0; first < user_ids.size(); first += kMaxIds) {
      const std::size_t last = std::min(user_ids.size(), first + kMaxIds);
      std::vector<std::string> ids(user_ids.begin() + static_cast<std::ptrdiff_t>(first),
                                   user_ids.begin() + static_cast<std::ptrdiff_t>(last));
      auto got = (*store)->GetMany(ids);
      if (!got) return tl::unexpected(Transient(got.error()));
      for (std::size_t i = 0; i < got->size(); ++i) {
        const auto& p = (*got)[i];
        if (p) {
          for (const auto& [k, v] : p->attributes) out[first + i].push_back(k);
        } else if (p.error().code == ErrorCode::kInternal) {
          return MakeError(ErrorCode::kUnavailable, p.error().message);
        }
        // NotFound: no keys. InvalidArgument (an id the writer cannot hold):
        // it has no keys for it either.
      }
    }
    return out;
  }

 private:
  // A whole-call error of the store: Unavailable and Internal (a nonsense
  // answer) are retried by the caller; the rest (refused token, 413) stop.
  static Error Transient(const Error& e) {
    if (e.code == ErrorCode::kInternal) return Error(ErrorCode::kUnavailable, e.message);
    return e;
  }

  Result<bool> Decide() {
    if (bulk_) return *bulk_;
    if (!o_.bulk) {
      bulk_ = false;
    } else {
      auto store = Store(0);
      if (!store) return tl::unexpected(store.error());
      auto has = (*store)->HasBulk();
      if (!has) return tl::unexpected(Transient(has.error()));
      bulk_ = *has;
    }
    if (o_.log) {
      o_.log(*bulk_ ? "applying through the writer's bulk import (POST /internal/profile/import)"
                    : "applying through the single-update API (no bulk token, --bulk off, or "
                      "the writer has no bulk endpoints)");
    }
    return *bulk_;
  }

  Result<std::vector<RejectedUpdate>> ApplyBulk(const std::vector<ProfileUpdate>& updates) {
    const auto requests =
        PlanImportRequests(updates, o_.max_records, o_.max_body_bytes,
                           static_cast<std::size_t>(std::max(1, o_.bulk_workers)), o_.min_records);
    std::mutex mu;
    std::vector<RejectedUpdate> rejected;
    std::optional<Error> failure;
    // Request r goes out on connection r % bulk_workers; each thread owns
    // the connections of the requests it takes (r is unique per thread).
    std::vector<std::mutex> conn(stores_.size());
    ParallelFor(requests.size(), static_cast<std::size_t>(std::max(1, o_.bulk_workers)),
                [&](std::size_t r) {
                  const std::size_t c = r % static_cast<std::size_t>(std::max(1, o_.bulk_workers));
                  std::lock_guard<std::mutex> hold(conn[c]);
                  auto store = Store(c);
                  std::vector<ProfileUpdate> part(
                      updates.begin() + static_cast<std::ptrdiff_t>(requests[r].first),
                      updates.begin() + static_cast<std::ptrdiff_t>(requests[r].second));
                  auto results = store ? (*store)->ApplyBatch(part, false)
                                       : Result<std::vector<Status>>(tl::unexpected(store.error()));
                  std::lock_guard<std::mutex> lock(mu);
                  if (!results) {
                    failure = Transient(results.error());
                    return;
                  }
                  for (std::size_t i = 0; i < results->size(); ++i) {
                    const Status& s = (*results)[i];
                    if (s) continue;
                    if (s.error().code == ErrorCode::kInvalidArgument) {
                      rejected.push_back({std::move(part[i]), s.error().message});
                    } else {
                      failure = Error(ErrorCode::kUnavailable, s.error().message);
                    }
                  }
                });
    if (failure) return tl::unexpected(*failure);
    return rejected;
  }

  Result<std::vector<RejectedUpdate>> ApplySingle(const std::vector<ProfileUpdate>& updates) {
    const std::size_t n =
        std::min(static_cast<std::size_t>(std::max(1, o_.workers)), updates.size());
    std::vector<std::vector<const ProfileUpdate*>> shares(n);
    for (const auto& u : updates) shares[std::hash<std::string>{}(u.user_id) % n].push_back(&u);
    std::mutex mu;
    std::vector<RejectedUpdate> rejected;
    std::optional<Error> failure;
    ParallelFor(n, n, [&](std::size_t w) {
      auto store = Store(w);
      if (!store) {
        std::lock_guard<std::mutex> lock(mu);
        failure = store.error();
        return;
      }
      for (const auto* u : shares[w]) {
        auto s = (*store)->Apply(*u);
        if (s) continue;
        std::lock_guard<std::mutex> lock(mu);
        if (s.error().code == ErrorCode::kInvalidArgument) {
          rejected.push_back({*u, s.error().message});
        } else {
          failure = Error(ErrorCode::kUnavailable, s.error().message);
          return;
        }
      }
    });
    if (failure) return tl::unexpected(*failure);
    return rejected;
  }

  // Connection i, created on first use. Safe for distinct i from distinct threads.
  Result<ModernStore*> Store(std::size_t i) {
    if (!stores_[i]) {
      auto s = factory_();
      if (!s) return tl::unexpected(s.error());
      stores_[i] = std::move(*s);
    }
    return stores_[i].get();
  }

  ModernStoreFactory factory_;
  WriterApplierOptions o_;
  std::vector<std::unique_ptr<ModernStore>> stores_;
  std::optional<bool> bulk_;
};

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> PlanImportRequests(
    const std::vector<ProfileUpdate>& updates, std::size_t max_records, std::size_t max_body_bytes,
    std::size_t parallel, std::size_t min_records) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const std::size_t n = updates.size();
  if (n == 0) return out;
  max_records = std::max<std::size_t>(1, max_records);
  // Pieces of similar size: enough for the record limit, and up to
  // `parallel` when each still has at least min_records.
  std::size_t pieces = (n + max_records - 1) / max_records;
  const std::size_t wanted =
      std::min(std::max<std::size_t>(1, parallel),
               std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_records)));
  pieces = std::max(pieces, wanted);
  const std::size_t target = (n + pieces - 1) / pieces;
  std::size_t first = 0;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t add = RecordBound(updates[i]);
    if (i > first && (i - first >= target || bytes + add > max_body_bytes)) {
      out.emplace_back(first, i);
      first = i;
      bytes = 0;
    }
    bytes += add;
  }
  out.emplace_back(first, n);
  return out;
}

std::unique_ptr<ChangeApplier> MakeWriterChangeApplier(ModernStoreFactory factory,
                                                       WriterApplierOptions options) {
  return std::make_unique<WriterChangeApplier>(std::move(factory), std::move(options));
}

}  // namespace ficus::migrator
