#include "domain/control_state.h"

#include <boost/json.hpp>

namespace ficus::proxy {
namespace json = boost::json;

namespace {

Result<json::object> ParseObject(std::string_view text, std::string_view key) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(key) + ": not a JSON object");
  }
  return std::move(v.get_object());
}

int64_t IntOr(const json::object& o, std::string_view field, int64_t dflt) {
  const auto* v = o.if_contains(field);
  if (!v) return dflt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return dflt;
}

std::string StrOr(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<Mode> ModeOf(std::string_view name) {
  for (Mode m : {Mode::kLegacy, Mode::kShadow, Mode::kCanary, Mode::kFull}) {
    if (ModeName(m) == name) return m;
  }
  return std::nullopt;
}

}  // namespace

std::string EncodeRouteSetting(const RouteSetting& s) {
  json::object o{{"mode", std::string(ModeName(s.mode))},
                 {"percent_bp", s.percent_bp},
                 {"paused", s.paused},
                 {"actor", s.actor},
                 {"replica", s.replica},
                 {"at", s.at_ms}};
  return json::serialize(o);
}

Result<RouteSetting> DecodeRouteSetting(std::string_view text, std::string_view key) {
  auto o = ParseObject(text, key);
  if (!o) return tl::unexpected(o.error());
  RouteSetting s;
  const auto* mode = o->if_contains("mode");
  if (!mode || !mode->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(key) + ".mode: missing");
  }
  auto m = ModeOf(mode->get_string());
  if (!m) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(key) + ".mode: unknown mode '" +
                                                      std::string(mode->get_string()) + "'");
  }
  s.mode = *m;
  const int64_t p = IntOr(*o, "percent_bp", 0);
  if (p < 0 || p > 10000) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(key) + ".percent_bp: must be 0..10000");
  }
  s.percent_bp = static_cast<uint32_t>(p);
  if (const auto* pz = o->if_contains("paused"); pz && pz->is_bool()) s.paused = pz->get_bool();
  s.actor = StrOr(*o, "actor");
  s.replica = StrOr(*o, "replica");
  s.at_ms = IntOr(*o, "at", 0);
  return s;
}

std::string EncodeFleetTrip(const FleetTrip& t) {
  return json::serialize(
      json::object{{"since", t.since_ms}, {"reason", t.reason}, {"replica", t.replica}});
}

Result<FleetTrip> DecodeFleetTrip(std::string_view text, std::string_view key) {
  auto o = ParseObject(text, key);
  if (!o) return tl::unexpected(o.error());
  FleetTrip t;
  t.since_ms = IntOr(*o, "since", 0);
  t.reason = StrOr(*o, "reason");
  t.replica = StrOr(*o, "replica");
  return t;
}

RouteSetting CurrentSetting(const Route& file_route, const ControlState& s) {
  auto it = s.routes.find(file_route.name);
  if (it != s.routes.end()) return it->second;
  RouteSetting r;
  r.mode = file_route.mode;
  r.percent_bp = file_route.percent_bp;
  r.paused = file_route.paused;
  return r;
}

RouteSetting ApplyChange(RouteSetting current, const RouteChange& change) {
  if (change.mode) current.mode = *change.mode;
  if (change.percent_bp) current.percent_bp = *change.percent_bp;
  if (change.paused) current.paused = *change.paused;
  return current;
}

std::shared_ptr<const Config> OverlayControlState(const std::shared_ptr<const Config>& file,
                                                  const ControlState& s) {
  bool differs = false;
  for (const Route& r : file->routes) {
    auto it = s.routes.find(r.name);
    if (it == s.routes.end()) continue;
    const RouteSetting& x = it->second;
    differs = differs || x.mode != r.mode || x.percent_bp != r.percent_bp || x.paused != r.paused;
  }
  if (!differs) return file;
  auto copy = std::make_shared<Config>(*file);
  for (Route& r : copy->routes) {
    auto it = s.routes.find(r.name);
    if (it == s.routes.end()) continue;
    r.mode = it->second.mode;
    r.percent_bp = it->second.percent_bp;
    r.paused = it->second.paused;
  }
  return copy;
}

}  // namespace ficus::proxy
