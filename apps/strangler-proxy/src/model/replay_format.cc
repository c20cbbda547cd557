#include "model/replay_format.h"

#include <cstdio>

namespace ficus::proxy::replay_format {
namespace {

// CRC32C (Castagnoli), table driven; records are small, this is not hot.
const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

void PutStr(std::string& s, const std::string& v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s += v;
}

}  // namespace

uint32_t Crc32c(const char* data, size_t n) {
  const auto& t = CrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ static_cast<uint8_t>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
std::string EncodePayload(const ReplayRecord& r) {
  std::string p;
  p.reserve(64 + r.route.size() + r.target.size() + r.body.size());
  PutU64(p, r.seq);
  PutU64(p, static_cast<uint64_t>(r.appended_ms));
  PutStr(p, r.route);
  PutStr(p, r.backend);
  PutStr(p, r.user_key);
  PutStr(p, r.method);
  PutStr(p, r.target);
  PutU32(p, static_cast<uint32_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    PutStr(p, k);
    PutStr(p, v);
  }
  PutStr(p, r.body);
  return p;
}

bool DecodePayload(const char* p, size_t n, ReplayRecord& r) {
  Reader rd(p, n);
  uint64_t appended = 0;
  uint32_t headers = 0;
  if (!rd.U64(r.seq) || !rd.U64(appended) || !rd.Str(r.route) || !rd.Str(r.backend) ||
      !rd.Str(r.user_key) || !rd.Str(r.method) || !rd.Str(r.target) || !rd.U32(headers)) {
    return false;
  }
  r.appended_ms = static_cast<int64_t>(appended);
  if (headers > 10000) return false;
  r.headers.clear();
  for (uint32_t i = 0; i < headers; ++i) {
    std::string k, v;
    if (!rd.Str(k) || !rd.Str(v)) return false;
    r.headers.emplace_back(std::move(k), std::move(v));
  }
  return rd.Str(r.body) && rd.Done();
}

std::string SegmentName(uint64_t first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "seg-%020llu.log", static_cast<unsigned long long>(first_seq));
  return buf;
}

}  // namespace ficus::proxy::replay_format
