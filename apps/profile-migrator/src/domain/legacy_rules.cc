#include "domain/legacy_rules.h"

namespace ficus::migrator {
namespace {

constexpr std::int64_t kMaxTs = 9'999'999'999'999'999;     // 16 digits
constexpr std::int64_t kYear2000Us = 946'684'800'000'000;  // 2000-01-01T00:00:00Z
constexpr std::int64_t kDayUs = 86'400'000'000;
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxValueBytes = 1024;

bool IsHex(char c, bool lower_only) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (!lower_only && c >= 'A' && c <= 'F');
}

void CheckTs(const std::string& user, const std::string& key, std::int64_t ts, std::int64_t now_us,
             std::vector<Finding>& out) {
  const std::string what = key.empty() ? "profiles.updated_us " : "updated_us ";
  if (ts <= 0 || ts > kMaxTs) {
    out.push_back({user, "bad_timestamp", key,
                   what + std::to_string(ts) +
                       " is not a positive timestamp of at most 16 digits (microseconds)",
                   true});
  } else if (ts < kYear2000Us) {
    out.push_back({user, "bad_timestamp", key,
                   what + std::to_string(ts) +
                       " is before 2000-01-01 (seconds or milliseconds instead of microseconds?)",
                   false});
  } else if (ts > now_us + kDayUs) {
    out.push_back({user, "bad_timestamp", key,
                   what + std::to_string(ts) +
                       " is more than a day in the future (it would win every later write)",
                   false});
  }
}

}  // namespace

bool IsCanonicalLowerUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !IsHex(id[i], true)) return false;
  }
  return true;
}

bool IsContractKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  for (char c : key) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::vector<Finding> CheckProfile(const LegacyProfile& p, std::int64_t now_us) {
  std::vector<Finding> out;
  if (!IsCanonicalLowerUuid(p.user_id)) {
    out.push_back({p.user_id, "non_canonical_id", "",
                   "user_id is not a lowercase canonical UUID: invisible through the legacy API "
                   "(it lower-cases ids and matches exactly); never migrated",
                   true});
  }
  CheckTs(p.user_id, "", p.updated_us, now_us, out);
  for (const auto& k : p.keys) {
    if (!IsContractKey(k.key)) {
      out.push_back(
          {p.user_id, "bad_key", k.key, "key must be 1 to 64 bytes of [A-Za-z0-9_.:-]", true});
    }
    if (k.value && k.value->size() > kMaxValueBytes) {
      out.push_back({p.user_id, "value_too_long", k.key,
                     "value of " + std::to_string(k.value->size()) + " bytes (limit 1024)", true});
    } else if (k.value && !IsValidUtf8(*k.value)) {
      out.push_back({p.user_id, "value_not_utf8", k.key, "value is not valid UTF-8", true});
    }
    CheckTs(p.user_id, k.key, k.updated_us, now_us, out);
  }
  return out;
}

Status CheckMigratable(const LegacyProfile& p) {
  // "now" only judges non-blocking findings; any value will do here.
  for (const auto& f : CheckProfile(p, kMaxTs)) {
    if (!f.blocking) continue;
    std::string where = f.key.empty() ? "" : " key " + f.key;
    return MakeError(ErrorCode::kInvalidArgument,
                     "user " + p.user_id + where + ": " + f.kind + ": " + f.detail);
  }
  return {};
}

}  // namespace ficus::migrator
