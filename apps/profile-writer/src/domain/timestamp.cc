#include "domain/timestamp.h"

#include <cassert>

namespace ficus::writer {

namespace {

// Appends v as exactly `width` decimal digits (v >= 0; zero-padded; a
// wider v - years past 9999 - keeps all its digits, like %04lld).
void AppendDigits(std::string& out, std::int64_t v, int width) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(buf[--n]);
}

}  // namespace

std::string FormatTimestampUs(std::int64_t us) {
  std::string out;
  out.reserve(27);
  AppendTimestampUs(out, us);
  return out;
}

void AppendTimestampUs(std::string& out, std::int64_t us) {
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
  AppendDigits(out, y, 4);
  out.push_back('-');
  AppendDigits(out, m, 2);
  out.push_back('-');
  AppendDigits(out, d, 2);
  out.push_back('T');
  AppendDigits(out, rem / 3600, 2);
  out.push_back(':');
  AppendDigits(out, rem / 60 % 60, 2);
  out.push_back(':');
  AppendDigits(out, rem % 60, 2);
  out.push_back('.');
  AppendDigits(out, frac, 6);
  out.push_back('Z');
}

}  // namespace ficus::writer
