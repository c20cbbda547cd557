#include "domain/cdc/gtid.h"

#include <algorithm>
#include <charconv>

namespace ficus::migrator::cdc {

namespace {

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string Gtid::ToString() const {
  return std::to_string(domain) + "-" + std::to_string(server) + "-" + std::to_string(sequence);
}

Result<Gtid> ParseGtid(std::string_view text) {
  auto bad = [&] {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "GTID '" + std::string(text) + "': expected domain-server-sequence, e.g. 0-1-42");
  };
  auto d1 = text.find('-');
  if (d1 == std::string_view::npos) return bad();
  auto d2 = text.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return bad();
  Gtid g;
  if (!ParseNumber(text.substr(0, d1), g.domain) ||
      !ParseNumber(text.substr(d1 + 1, d2 - d1 - 1), g.server) ||
      !ParseNumber(text.substr(d2 + 1), g.sequence)) {
    return bad();
  }
  return g;
}

Result<GtidPosition> GtidPosition::Parse(std::string_view text) {
  GtidPosition pos;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    auto item = text.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.remove_suffix(1);
    if (!item.empty()) {
      auto g = ParseGtid(item);
      if (!g) return tl::unexpected(g.error());
      for (const auto& have : pos.gtids_) {
        if (have.domain == g->domain) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "GTID position '" + std::string(text) + "': domain " +
                               std::to_string(g->domain) + " appears twice");
        }
      }
      pos.Advance(*g);
    }
    start = comma + 1;
  }
  return pos;
}

void GtidPosition::Advance(const Gtid& g) {
  auto it = std::lower_bound(gtids_.begin(), gtids_.end(), g.domain,
                             [](const Gtid& a, std::uint32_t d) { return a.domain < d; });
  if (it != gtids_.end() && it->domain == g.domain) {
    *it = g;
  } else {
    gtids_.insert(it, g);
  }
}

std::string GtidPosition::ToString() const {
  std::string out;
  for (const auto& g : gtids_) {
    if (!out.empty()) out += ',';
    out += g.ToString();
  }
  return out;
}

std::uint64_t GtidPosition::DistanceTo(const GtidPosition& newer) const {
  std::uint64_t total = 0;
  for (const auto& n : newer.gtids_) {
    std::uint64_t have = 0;
    for (const auto& g : gtids_) {
      if (g.domain == n.domain) have = g.sequence;
    }
    if (n.sequence > have) total += n.sequence - have;
  }
  return total;
}

}  // namespace ficus::migrator::cdc
