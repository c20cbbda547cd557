// PendingWrites: read-your-writes across every switch. PendingTowards() is
// true when a write of `user` may not have reached `backend` yet (`legacy`:
// it is the route's legacy side): a record in the replay log towards it, or
// a copy still in flight to it. A request of that user served there could
// miss the write, so the proxy serves it from the other side while that side
// has nothing pending for the user.
// Called on the request's loop; must not block; thread-safe across loops.
#pragma once

#include <string>
#include <string_view>

namespace ficus::proxy {

class PendingWrites {
 public:
  virtual ~PendingWrites() = default;
  [[nodiscard]] virtual bool PendingTowards(std::string_view user, const std::string& backend,
                                            bool legacy) const = 0;
};

class NoPendingWrites final : public PendingWrites {
 public:
  [[nodiscard]] bool PendingTowards(std::string_view, const std::string&, bool) const override {
    return false;
  }
};

}  // namespace ficus::proxy
