#include "domain/cdc/follow_state.h"

#include <boost/json.hpp>

#include "domain/cdc/gtid.h"

namespace ficus::migrator::cdc {

std::string SerializeFollowState(const FollowState& s) {
  boost::json::object o{{"version", 1},
                        {"gtid", s.gtid},
                        {"phase", s.phase},
                        {"source", s.source},
                        {"saved_at_us", s.saved_at_us}};
  if (s.stamps_bytes > 0 || s.stamps_generation > 0) {
    o["stamps"] =
        boost::json::object{{"generation", s.stamps_generation}, {"bytes", s.stamps_bytes}};
  }
  return boost::json::serialize(o) + "\n";
}

Result<FollowState> ParseFollowState(const std::string& text, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument, "follow checkpoint " + path + ": " + what);
  };
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& o = v.as_object();
  const auto* ver = o.if_contains("version");
  if (!ver || !ver->is_int64() || ver->as_int64() != 1) return bad("version: must be 1");
  FollowState s;
  const auto* gtid = o.if_contains("gtid");
  if (!gtid || !gtid->is_string()) return bad("gtid: missing or not a string");
  s.gtid = std::string(gtid->as_string());
  if (auto p = GtidPosition::Parse(s.gtid); !p) return bad("gtid: " + p.error().message);
  const auto* phase = o.if_contains("phase");
  if (!phase || !phase->is_string()) return bad("phase: missing or not a string");
  s.phase = std::string(phase->as_string());
  if (s.phase != "backfill" && s.phase != "backfilled" && s.phase != "follow") {
    return bad("phase: must be backfill, backfilled or follow, got '" + s.phase + "'");
  }
  if (const auto* src = o.if_contains("source"); src && src->is_string()) {
    s.source = std::string(src->as_string());
  }
  if (const auto* at = o.if_contains("saved_at_us"); at && at->is_int64()) {
    s.saved_at_us = at->as_int64();
  }
  if (const auto* st = o.if_contains("stamps")) {
    const auto* so = st->if_object();
    const auto* g = so ? so->if_contains("generation") : nullptr;
    const auto* b = so ? so->if_contains("bytes") : nullptr;
    if (!g || !g->is_int64() || g->as_int64() < 0 || !b || !b->is_int64() || b->as_int64() < 0) {
      return bad("stamps: expected {\"generation\": >= 0, \"bytes\": >= 0}");
    }
    s.stamps_generation = g->as_int64();
    s.stamps_bytes = b->as_int64();
  }
  return s;
}

}  // namespace ficus::migrator::cdc
