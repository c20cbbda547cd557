#include "domain/partition.h"

#include <cstdint>
#include <cstdio>

namespace ficus::migrator {

Result<std::vector<KeyRange>> SplitUserIdSpace(int n) {
  if (n < 1 || n > kMaxPartitions) {
    return MakeError(ErrorCode::kInvalidArgument, "partitions: must be 1 to " +
                                                      std::to_string(kMaxPartitions) + ", got " +
                                                      std::to_string(n));
  }
  auto boundary = [n](int i) {
    const std::uint64_t prefix = (std::uint64_t{1} << 32) * std::uint64_t(i) / std::uint64_t(n);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-0000-0000-0000-000000000000",
                  static_cast<unsigned long long>(prefix));
    return std::string(buf);
  };
  std::vector<KeyRange> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    out.push_back(KeyRange{i == 0 ? "" : boundary(i), i == n - 1 ? "" : boundary(i + 1)});
  }
  return out;
}

}  // namespace ficus::migrator
