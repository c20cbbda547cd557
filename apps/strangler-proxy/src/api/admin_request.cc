#include "api/admin_request.h"

#include <boost/json.hpp>
#include <cmath>
#include <string>

namespace ficus::proxy {
namespace {

namespace json = boost::json;

tl::unexpected<Error> Bad(const std::string& field, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, field + ": " + why);
}

Result<uint32_t> ParseWaitS(const json::value& val) {
  if (!val.is_number()) return Bad("wait_s", "must be a number of seconds from 0 to 300");
  const double d = val.to_number<double>();
  if (!std::isfinite(d) || d < 0 || d > 300) {
    return Bad("wait_s", "must be a number of seconds from 0 to 300");
  }
  return static_cast<uint32_t>(d * 1000);
}

}  // namespace

Result<RouteChangeRequest> ParseRouteChangeRequest(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("body", "not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return Bad("body", "must be a JSON object");
  RouteChangeRequest out;
  for (const auto& kv : v.as_object()) {
    const std::string key(kv.key());
    const json::value& val = kv.value();
    if (key == "mode") {
      if (!val.is_string()) return Bad(key, "must be one of legacy|shadow|canary|full");
      const std::string_view m = val.as_string();
      if (m == "legacy") {
        out.change.mode = Mode::kLegacy;
      } else if (m == "shadow") {
        out.change.mode = Mode::kShadow;
      } else if (m == "canary") {
        out.change.mode = Mode::kCanary;
      } else if (m == "full") {
        out.change.mode = Mode::kFull;
      } else {
        return Bad(key, "must be one of legacy|shadow|canary|full, got '" + std::string(m) + "'");
      }
    } else if (key == "percent") {
      const std::string why = "must be a number from 0 to 100 with at most two decimals";
      if (val.is_string()) {
        auto bp = ParsePercent(std::string_view(val.as_string()));
        if (!bp) return Bad(key, why);
        out.change.percent_bp = *bp;
      } else if (val.is_number()) {
        const double d = val.to_number<double>();
        const double scaled = d * 100;
        if (!std::isfinite(d) || d < 0 || d > 100 ||
            std::fabs(scaled - std::round(scaled)) > 1e-6) {
          return Bad(key, why);
        }
        out.change.percent_bp = static_cast<uint32_t>(std::llround(scaled));
      } else {
        return Bad(key, why);
      }
    } else if (key == "paused") {
      if (!val.is_bool()) return Bad(key, "must be true or false");
      out.change.paused = val.as_bool();
    } else if (key == "wait_s") {
      auto w = ParseWaitS(val);
      if (!w) return tl::unexpected(w.error());
      out.wait_ms = *w;
    } else {
      return Bad(key, "unknown field (allowed: mode|percent|paused|wait_s)");
    }
  }
  if (out.change.empty()) return Bad("body", "nothing to change (give mode, percent or paused)");
  return out;
}

Result<uint32_t> ParseResetFallbackRequest(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return 10000U;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("body", "not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return Bad("body", "must be a JSON object");
  uint32_t wait_ms = 10000;
  for (const auto& kv : v.as_object()) {
    if (kv.key() != "wait_s") {
      return Bad(std::string(kv.key()), "unknown field (allowed: wait_s)");
    }
    auto w = ParseWaitS(kv.value());
    if (!w) return tl::unexpected(w.error());
    wait_ms = *w;
  }
  return wait_ms;
}

}  // namespace ficus::proxy
