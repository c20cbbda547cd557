#include "domain/timestamp.h"

#include <cassert>
#include <cstdio>

namespace ficus::writer {

std::string FormatTimestampUs(std::int64_t us) {
  assert(us >= 0);
  std::int64_t secs = us / 1000000, frac = us % 1000000;
  std::int64_t days = secs / 86400, rem = secs % 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  std::int64_t z = days + 719468;
  std::int64_t era = z / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[40];
  int n =
      std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                    static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                    static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                    static_cast<long long>(rem % 60), static_cast<long long>(frac));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace ficus::writer
