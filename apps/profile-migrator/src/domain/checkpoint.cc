#include "domain/checkpoint.h"

#include <boost/json.hpp>

namespace ficus::migrator {

namespace json = boost::json;

std::int64_t Checkpoint::profiles() const {
  std::int64_t n = 0;
  for (const auto& p : partitions) n += p.profiles;
  return n;
}

bool Checkpoint::finished() const {
  for (const auto& p : partitions) {
    if (!p.finished) return false;
  }
  return true;
}

std::string SerializeCheckpoint(const Checkpoint& cp) {
  json::array parts;
  for (const auto& p : cp.partitions) {
    parts.push_back(json::object{{"lo", p.range.lo},
                                 {"hi", p.range.hi},
                                 {"last_done", p.last_done},
                                 {"finished", p.finished},
                                 {"profiles", p.profiles}});
  }
  json::object root{{"format", "ficus-migrator-checkpoint/1"},
                    {"source", cp.source},
                    {"partitions", std::move(parts)}};
  return json::serialize(root) + "\n";
}

Result<Checkpoint> ParseCheckpoint(std::string_view text, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, origin + ": " + why);
  };
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad("not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return bad("must be a JSON object");
  const auto& o = v.as_object();
  const auto* fmt = o.if_contains("format");
  if (!fmt || !fmt->is_string() || fmt->as_string() != "ficus-migrator-checkpoint/1") {
    return bad("format: must be \"ficus-migrator-checkpoint/1\"");
  }
  Checkpoint cp;
  const auto* src = o.if_contains("source");
  if (!src || !src->is_string()) return bad("source: must be a string");
  cp.source = std::string(src->as_string());
  const auto* parts = o.if_contains("partitions");
  if (!parts || !parts->is_array() || parts->as_array().empty()) {
    return bad("partitions: must be a non-empty array");
  }
  std::size_t i = 0;
  for (const auto& pv : parts->as_array()) {
    const std::string at = "partitions[" + std::to_string(i++) + "]";
    if (!pv.is_object()) return bad(at + ": must be an object");
    const auto& po = pv.as_object();
    PartitionProgress p;
    auto str = [&](const char* name, std::string& out) -> bool {
      const auto* f = po.if_contains(name);
      if (!f || !f->is_string()) return false;
      out = std::string(f->as_string());
      return true;
    };
    if (!str("lo", p.range.lo)) return bad(at + ".lo: must be a string");
    if (!str("hi", p.range.hi)) return bad(at + ".hi: must be a string");
    if (!str("last_done", p.last_done)) return bad(at + ".last_done: must be a string");
    const auto* fin = po.if_contains("finished");
    if (!fin || !fin->is_bool()) return bad(at + ".finished: must be a boolean");
    p.finished = fin->as_bool();
    const auto* n = po.if_contains("profiles");
    if (!n || !n->is_int64() || n->as_int64() < 0) {
      return bad(at + ".profiles: must be a non-negative integer");
    }
    p.profiles = n->as_int64();
    if (!p.last_done.empty() && !p.range.Contains(p.last_done)) {
      return bad(at + ".last_done: outside its range");
    }
    cp.partitions.push_back(std::move(p));
  }
  return cp;
}

Status CheckResumable(const Checkpoint& cp, const std::string& source,
                      const std::vector<KeyRange>& ranges, const std::string& origin) {
  if (cp.source != source) {
    return MakeError(ErrorCode::kPreconditionFailed, origin + ": written for source '" + cp.source +
                                                         "', not '" + source +
                                                         "' (use another --checkpoint file)");
  }
  bool same = cp.partitions.size() == ranges.size();
  for (std::size_t i = 0; same && i < ranges.size(); ++i) {
    same = cp.partitions[i].range == ranges[i];
  }
  if (!same) {
    return MakeError(ErrorCode::kPreconditionFailed, origin + ": written with --partitions " +
                                                         std::to_string(cp.partitions.size()) +
                                                         ", resume with the same value");
  }
  return {};
}

std::uint64_t ChunkTracker::Issue(std::string last_id, std::int64_t profiles) {
  const std::uint64_t seq = next_++;
  pending_.emplace(seq, Chunk{std::move(last_id), profiles, false});
  return seq;
}

void ChunkTracker::Complete(std::uint64_t seq) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  it->second.complete = true;
  while (!pending_.empty() && pending_.begin()->second.complete) {
    last_done_ = pending_.begin()->second.last_id;
    profiles_done_ += pending_.begin()->second.profiles;
    pending_.erase(pending_.begin());
  }
}

}  // namespace ficus::migrator
