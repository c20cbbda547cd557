#include "model/rocksdb_codec.h"

#include <cstring>
#include <limits>

namespace ficus::writer {
namespace {

void PutBe64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
std::uint64_t GetBe64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
template <typename T>
void PutLe(std::string& out, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((u >> (i * 8)) & 0xFF));
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  bool Le(T& v) {
    if (b_.size() < sizeof(T)) return false;
    std::make_unsigned_t<T> u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(b_[i])) << (i * 8);
    }
    v = static_cast<T>(u);
    b_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(std::size_t n, std::string_view& out) {
    if (b_.size() < n) return false;
    out = b_.substr(0, n);
    b_.remove_prefix(n);
    return true;
  }
  bool Done() const { return b_.empty(); }
  std::string_view Rest() const { return b_; }

 private:
  std::string_view b_;
};

tl::unexpected<Error> Corrupt(const char* what) {
  return MakeError(ErrorCode::kInternal, std::string("corrupt ") + what);
}

Result<Profile> ReadProfile(Reader& r) {
  Profile p;
  std::uint32_t n = 0;
  if (!r.Le(p.updated_us) || !r.Le(n)) return Corrupt("profile header");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint16_t klen = 0;
    std::string_view key, value;
    Cell cell;
    std::uint8_t has = 0;
    if (!r.Le(klen) || !r.Bytes(klen, key) || !r.Le(cell.ts_us) || !r.Le(has)) {
      return Corrupt("profile cell");
    }
    if (has) {
      std::uint32_t vlen = 0;
      if (!r.Le(vlen) || !r.Bytes(vlen, value)) return Corrupt("profile value");
      cell.value.emplace(value);
    }
    p.cells.emplace_hint(p.cells.end(), std::string(key), std::move(cell));
  }
  return p;
}

}  // namespace

std::string CurrentKey(const Uuid& user) {
  return std::string(reinterpret_cast<const char*>(user.data()), user.size());
}

std::string HistoryPrefix(const Uuid& user) {
  return CurrentKey(user);
}

void AppendHistoryKey(std::string& out, const Uuid& user, std::int64_t ts_us, std::uint64_t seq) {
  out.append(reinterpret_cast<const char*>(user.data()), user.size());
  PutBe64(out, std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(ts_us));
  PutBe64(out, seq);
}

std::string HistoryKey(const Uuid& user, std::int64_t ts_us, std::uint64_t seq) {
  std::string k;
  k.reserve(32);
  AppendHistoryKey(k, user, ts_us, seq);
  return k;
}

Result<HistoryKeyParts> DecodeHistoryKey(std::string_view key) {
  if (key.size() != 32) return Corrupt("history key");
  HistoryKeyParts parts;
  std::memcpy(parts.user.data(), key.data(), 16);
  parts.ts_us = static_cast<std::int64_t>(std::numeric_limits<std::uint64_t>::max() -
                                          GetBe64(key.data() + 16));
  parts.seq = GetBe64(key.data() + 24);
  return parts;
}

std::string IdempotencyKey(const Uuid& user, std::string_view key) {
  std::string k = CurrentKey(user);
  k.append(key);
  return k;
}

std::string EncodeProfile(const Profile& profile) {
  std::string out;
  AppendProfile(out, profile);
  return out;
}

void AppendProfile(std::string& out, const Profile& profile) {
  out.reserve(out.size() + 12 + profile.cells.size() * 32);
  PutLe<std::int64_t>(out, profile.updated_us);
  PutLe<std::uint32_t>(out, static_cast<std::uint32_t>(profile.cells.size()));
  for (const auto& [key, cell] : profile.cells) {
    PutLe<std::uint16_t>(out, static_cast<std::uint16_t>(key.size()));
    out.append(key);
    PutLe<std::int64_t>(out, cell.ts_us);
    out.push_back(cell.value ? 1 : 0);
    if (cell.value) {
      PutLe<std::uint32_t>(out, static_cast<std::uint32_t>(cell.value->size()));
      out.append(*cell.value);
    }
  }
}

Result<Profile> DecodeProfile(std::string_view bytes) {
  Reader r(bytes);
  auto p = ReadProfile(r);
  if (p && !r.Done()) return Corrupt("profile trailer");
  return p;
}

std::string EncodeIdempotency(const IdempotencyRecord& record) {
  std::string out;
  PutLe<std::int64_t>(out, record.created_us);
  out.append(reinterpret_cast<const char*>(record.fingerprint.data()), record.fingerprint.size());
  out.append(EncodeProfile(record.profile));
  return out;
}

Result<IdempotencyRecord> DecodeIdempotency(const Uuid& user, std::string_view bytes) {
  Reader r(bytes);
  IdempotencyRecord rec;
  rec.user = user;
  std::string_view fp;
  if (!r.Le(rec.created_us) || !r.Bytes(32, fp)) return Corrupt("idempotency record");
  std::memcpy(rec.fingerprint.data(), fp.data(), 32);
  auto p = ReadProfile(r);
  if (!p) return tl::unexpected(p.error());
  if (!r.Done()) return Corrupt("idempotency trailer");
  rec.profile = std::move(*p);
  return rec;
}

Result<std::int64_t> IdempotencyCreatedUs(std::string_view bytes) {
  Reader r(bytes);
  std::int64_t created = 0;
  if (!r.Le(created)) return Corrupt("idempotency record");
  return created;
}

}  // namespace ficus::writer
