#include "model/writer_change_applier.h"

#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace ficus::migrator {

namespace {

class WriterChangeApplier final : public ChangeApplier {
 public:
  WriterChangeApplier(ModernStoreFactory factory, int workers)
      : factory_(std::move(factory)), stores_(static_cast<std::size_t>(std::max(1, workers))) {}

  Result<std::vector<RejectedUpdate>> Apply(const std::vector<ProfileUpdate>& updates) override {
    const std::size_t n = std::min(stores_.size(), updates.size());
    std::vector<std::vector<const ProfileUpdate*>> shares(n);
    for (const auto& u : updates) shares[std::hash<std::string>{}(u.user_id) % n].push_back(&u);
    std::mutex mu;
    std::vector<RejectedUpdate> rejected;
    std::optional<Error> failure;
    auto work = [&](std::size_t w) {
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
    };
    std::vector<std::thread> threads;
    for (std::size_t w = 1; w < n; ++w) threads.emplace_back(work, w);
    if (n > 0) work(0);
    for (auto& t : threads) t.join();
    if (failure) return tl::unexpected(*failure);
    return rejected;
  }

  Result<std::vector<std::string>> LiveKeys(const std::string& user_id) override {
    auto store = Store(0);
    if (!store) return tl::unexpected(store.error());
    auto p = (*store)->Get(user_id);
    std::vector<std::string> keys;
    if (!p) {
      if (p.error().code == ErrorCode::kNotFound) return keys;
      return MakeError(ErrorCode::kUnavailable, p.error().message);
    }
    for (const auto& [k, v] : p->attributes) keys.push_back(k);
    return keys;
  }

 private:
  Result<ModernStore*> Store(std::size_t i) {
    if (!stores_[i]) {
      auto s = factory_();
      if (!s) return tl::unexpected(s.error());
      stores_[i] = std::move(*s);
    }
    return stores_[i].get();
  }

  ModernStoreFactory factory_;
  std::vector<std::unique_ptr<ModernStore>> stores_;
};

}  // namespace

std::unique_ptr<ChangeApplier> MakeWriterChangeApplier(ModernStoreFactory factory, int workers) {
  return std::make_unique<WriterChangeApplier>(std::move(factory), workers);
}

}  // namespace ficus::migrator
