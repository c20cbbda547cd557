#include "domain/mode_guard.h"

namespace ficus::proxy {
namespace {

// Share of the cohort served by modern, in basis points.
uint32_t ModernShare(const RouteShape& s) {
  if (s.paused) return 0;
  switch (s.mode) {
    case Mode::kLegacy:
    case Mode::kShadow:
      return 0;
    case Mode::kCanary:
      return s.percent_bp;
    case Mode::kFull:
      return 10001;  // everyone, also requests without a cohort key
  }
  return 0;
}

}  // namespace

bool LegacyGains(const RouteShape& from, const RouteShape& to) {
  return ModernShare(to) < ModernShare(from);
}

bool ModernGains(const RouteShape& from, const RouteShape& to) {
  return ModernShare(to) > ModernShare(from);
}

std::optional<std::string> CheckRouteChange(const RouteShape& from, const RouteShape& to,
                                            const GuardBacklog& backlog) {
  const std::string field = from.mode != to.mode       ? "mode"
                            : from.paused != to.paused ? "paused"
                                                       : "percent";
  if (LegacyGains(from, to) && backlog.to_legacy > 0) {
    return field +
           ": moving users back to legacy needs the replay backlog towards legacy drained (" +
           std::to_string(backlog.to_legacy) +
           " acknowledged writes not yet on legacy); retry once it is 0";
  }
  if (ModernGains(from, to) && backlog.to_modern > 0) {
    return field + ": moving users to modern needs the replay backlog towards modern drained (" +
           std::to_string(backlog.to_modern) + " writes not yet on modern); retry once it is 0";
  }
  return std::nullopt;
}

}  // namespace ficus::proxy
