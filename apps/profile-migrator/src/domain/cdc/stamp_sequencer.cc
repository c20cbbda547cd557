#include "domain/cdc/stamp_sequencer.h"

#include <boost/json.hpp>

namespace ficus::migrator::cdc {
namespace {

std::string Id(const std::string& user, const std::string& key) {
  std::string id = user;
  id.push_back('\0');
  id.append(key);
  return id;
}

}  // namespace

void StampSequencer::Sequence(std::vector<AttributeChange>& changes) {
  for (auto& c : changes) {
    const std::string id = Id(c.user_id, c.key);
    auto it = last_.find(id);
    if (!c.implied) {
      // An explicit stamp ends the chain: legacy's column moved to it.
      if (it != last_.end()) {
        last_.erase(it);
        memos_.push_back({c.user_id, c.key, 0});
      }
      continue;
    }
    if (it != last_.end() && c.ts_us <= it->second) c.ts_us = it->second + 1;
    Remember(id, c.ts_us);
    memos_.push_back({c.user_id, c.key, c.ts_us});
  }
  if (last_.size() > max_keys_) {
    last_.clear();
    memos_.clear();
    cleared_ = true;
  }
}

void StampSequencer::Remember(const std::string& id, std::int64_t ts_us) {
  last_[id] = ts_us;
}

std::vector<StampMemo> StampSequencer::TakeMemos() {
  return std::exchange(memos_, {});
}

bool StampSequencer::TakeCleared() {
  return std::exchange(cleared_, false);
}

std::vector<StampMemo> StampSequencer::Snapshot() const {
  std::vector<StampMemo> out;
  out.reserve(last_.size());
  for (const auto& [id, ts] : last_) {
    const auto nul = id.find('\0');
    out.push_back({id.substr(0, nul), id.substr(nul + 1), ts});
  }
  return out;
}

void StampSequencer::Restore(const std::vector<StampMemo>& memos) {
  for (const auto& m : memos) {
    const std::string id = Id(m.user_id, m.key);
    if (m.ts_us == 0) {
      last_.erase(id);
    } else {
      Remember(id, m.ts_us);
    }
  }
  if (last_.size() > max_keys_) last_.clear();
}

std::string EncodeStampMemos(const std::vector<StampMemo>& memos) {
  std::string out;
  for (const auto& m : memos) {
    out += boost::json::serialize(boost::json::array{boost::json::string_view(m.user_id),
                                                     boost::json::string_view(m.key), m.ts_us});
    out.push_back('\n');
  }
  return out;
}

Result<std::vector<StampMemo>> DecodeStampMemos(const std::string& text,
                                                const std::string& origin) {
  std::vector<StampMemo> out;
  std::size_t pos = 0, line = 0;
  while (pos < text.size()) {
    ++line;
    auto end = text.find('\n', pos);
    if (end == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       origin + ": line " + std::to_string(line) + ": no newline at its end");
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(std::string_view(text).substr(pos, end - pos), ec);
    const auto* a = !ec ? v.if_array() : nullptr;
    if (!a || a->size() != 3 || !(*a)[0].is_string() || !(*a)[1].is_string() ||
        !(*a)[2].is_int64()) {
      return MakeError(ErrorCode::kInvalidArgument, origin + ": line " + std::to_string(line) +
                                                        ": expected [\"user_id\",\"key\",ts_us]");
    }
    out.push_back(
        {std::string((*a)[0].as_string()), std::string((*a)[1].as_string()), (*a)[2].as_int64()});
    pos = end + 1;
  }
  return out;
}

}  // namespace ficus::migrator::cdc
