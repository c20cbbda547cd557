#include "cql_cell.h"

#include <algorithm>
#include <cstring>

namespace ficus::cql::testing {

int CompareUnsigned(ByteView a, ByteView b) {
  const std::size_t n = std::min(a.size(), b.size());
  if (n > 0) {
    int c = std::memcmp(a.data(), b.data(), n);
    if (c != 0) return c;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool CellWins(const StoredCell& a, const StoredCell& b, std::int64_t now_s) {
  if (a.ts != b.ts) return a.ts > b.ts;
  const bool a_live = a.Live(now_s), b_live = b.Live(now_s);
  if (a_live != b_live) return !a_live;  // the dead cell wins the tie
  if (!a_live) return a.LocalDeletion() >= b.LocalDeletion();
  const bool a_exp = a.ttl_s != 0, b_exp = b.ttl_s != 0;
  if (a_exp != b_exp) return a_exp;
  if (a_exp) {
    if (a.expiry_s != b.expiry_s) return a.expiry_s > b.expiry_s;
    if (a.ttl_s != b.ttl_s) return a.ttl_s < b.ttl_s;
  }
  return CompareUnsigned(*a.value, *b.value) >= 0;
}

}  // namespace ficus::cql::testing
