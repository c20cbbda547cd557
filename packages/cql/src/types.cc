#include "ficus/cql/types.h"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace ficus::cql {

namespace {

Error BadValue(std::string_view type, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument, fmt::format("cql: bad {} value: {}", type, why));
}

Result<std::int64_t> FixedWidth(ByteView b, std::size_t width, std::string_view type) {
  if (b.size() != width) {
    return tl::unexpected(
        BadValue(type, fmt::format("expected {} bytes, got {}", width, b.size())));
  }
  std::uint64_t u = 0;
  for (auto x : b) u = u << 8 | x;
  if (width < 8 && (u >> (width * 8 - 1)) & 1) u |= ~0ULL << (width * 8);  // sign-extend
  return static_cast<std::int64_t>(u);
}

template <typename Container>
Bytes EncodeTextCollection(const Container& c) {
  Writer w;
  w.Int(static_cast<std::int32_t>(c.size()));
  for (const auto& s : c) w.BytesValue(AsBytes(s));
  return std::move(w).Take();
}

// Reads the elements of a list/set body as strings.
Result<std::vector<std::string>> DecodeTextElements(ByteView b, std::string_view type) {
  Reader r(b, std::string(type));
  FICUS_CQL_TRY(std::int32_t n, r.Int("element count"));
  if (n < 0) return tl::unexpected(r.Invalid(0, "element count", fmt::format("negative {}", n)));
  std::vector<std::string> out;
  for (std::int32_t i = 0; i < n; ++i) {
    std::size_t at = r.offset();
    FICUS_CQL_TRY(auto e, r.BytesField(fmt::format("element {}", i)));
    if (!e) return tl::unexpected(r.Invalid(at, fmt::format("element {}", i), "null element"));
    out.emplace_back(e->begin(), e->end());
  }
  if (!r.AtEnd()) {
    return tl::unexpected(
        r.Invalid(r.offset(), "end", fmt::format("{} trailing bytes", r.remaining())));
  }
  return out;
}

}  // namespace

Bytes EncodeText(std::string_view s) {
  return ToBytes(s);
}

Bytes EncodeBigint(std::int64_t v) {
  Writer w;
  w.Long(v);
  return std::move(w).Take();
}

Bytes EncodeInt(std::int32_t v) {
  Writer w;
  w.Int(v);
  return std::move(w).Take();
}

Bytes EncodeBoolean(bool v) {
  return Bytes{static_cast<std::uint8_t>(v ? 1 : 0)};
}

Bytes EncodeUuid(const Uuid& u) {
  return Bytes(u.bytes.begin(), u.bytes.end());
}

Bytes EncodeTimestamp(std::int64_t millis) {
  return EncodeBigint(millis);
}

Bytes EncodeTextMap(const std::map<std::string, std::string>& m) {
  Writer w;
  w.Int(static_cast<std::int32_t>(m.size()));
  for (const auto& [k, v] : m) {
    w.BytesValue(AsBytes(k));
    w.BytesValue(AsBytes(v));
  }
  return std::move(w).Take();
}

Bytes EncodeTextSet(const std::set<std::string>& s) {
  return EncodeTextCollection(s);
}
Bytes EncodeTextList(const std::vector<std::string>& l) {
  return EncodeTextCollection(l);
}

Result<std::string> DecodeText(ByteView b) {
  return std::string(b.begin(), b.end());
}
Result<std::int64_t> DecodeBigint(ByteView b) {
  return FixedWidth(b, 8, "bigint");
}
Result<std::int32_t> DecodeInt(ByteView b) {
  FICUS_CQL_TRY(std::int64_t v, FixedWidth(b, 4, "int"));
  return static_cast<std::int32_t>(v);
}
Result<bool> DecodeBoolean(ByteView b) {
  if (b.size() != 1) return tl::unexpected(BadValue("boolean", "expected 1 byte"));
  return b[0] != 0;
}
Result<Uuid> DecodeUuid(ByteView b) {
  if (b.size() != 16) {
    return tl::unexpected(BadValue("uuid", fmt::format("expected 16 bytes, got {}", b.size())));
  }
  Uuid u;
  std::copy(b.begin(), b.end(), u.bytes.begin());
  return u;
}
Result<std::int64_t> DecodeTimestamp(ByteView b) {
  return FixedWidth(b, 8, "timestamp");
}

Result<std::map<std::string, std::string>> DecodeTextMap(ByteView b) {
  Reader r(b, "map<text,text> value");
  FICUS_CQL_TRY(std::int32_t n, r.Int("entry count"));
  if (n < 0) return tl::unexpected(r.Invalid(0, "entry count", fmt::format("negative {}", n)));
  std::map<std::string, std::string> out;
  for (std::int32_t i = 0; i < n; ++i) {
    std::size_t at = r.offset();
    FICUS_CQL_TRY(auto k, r.BytesField(fmt::format("key {}", i)));
    FICUS_CQL_TRY(auto v, r.BytesField(fmt::format("value {}", i)));
    if (!k || !v) return tl::unexpected(r.Invalid(at, fmt::format("entry {}", i), "null"));
    out.emplace(std::string(k->begin(), k->end()), std::string(v->begin(), v->end()));
  }
  if (!r.AtEnd()) {
    return tl::unexpected(
        r.Invalid(r.offset(), "end", fmt::format("{} trailing bytes", r.remaining())));
  }
  return out;
}

Result<std::set<std::string>> DecodeTextSet(ByteView b) {
  FICUS_CQL_TRY(auto v, DecodeTextElements(b, "set<text> value"));
  return std::set<std::string>(v.begin(), v.end());
}

Result<std::vector<std::string>> DecodeTextList(ByteView b) {
  return DecodeTextElements(b, "list<text> value");
}

Result<std::string> DecodeInetAddress(ByteView b) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (b.size() == 4) {
    inet_ntop(AF_INET, b.data(), buf, sizeof buf);
  } else if (b.size() == 16) {
    inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
  } else {
    return tl::unexpected(
        BadValue("inet", fmt::format("expected 4 or 16 bytes, got {}", b.size())));
  }
  return std::string(buf);
}

namespace {
// 100 ns intervals between 1582-10-15 and 1970-01-01.
constexpr std::uint64_t kGregorianOffset = 0x01B21DD213814000ULL;
}  // namespace

Uuid MakeTimeUuid(std::int64_t micros_since_epoch, std::uint16_t clock_seq, std::uint64_t node) {
  std::uint64_t ts = static_cast<std::uint64_t>(micros_since_epoch) * 10 + kGregorianOffset;
  std::uint32_t time_low = static_cast<std::uint32_t>(ts);
  std::uint16_t time_mid = static_cast<std::uint16_t>(ts >> 32);
  std::uint16_t time_hi = static_cast<std::uint16_t>((ts >> 48) & 0x0FFF) | 0x1000;
  std::uint16_t seq = static_cast<std::uint16_t>((clock_seq & 0x3FFF) | 0x8000);
  Writer w;
  w.Int(static_cast<std::int32_t>(time_low));
  w.Short(time_mid);
  w.Short(time_hi);
  w.Short(seq);
  for (int shift = 40; shift >= 0; shift -= 8) w.Byte(static_cast<std::uint8_t>(node >> shift));
  Uuid u;
  std::copy(w.bytes().begin(), w.bytes().end(), u.bytes.begin());
  return u;
}

std::int64_t TimeUuidMicros(const Uuid& u) {
  const auto& b = u.bytes;
  std::uint64_t time_low = std::uint64_t{b[0]} << 24 | b[1] << 16 | b[2] << 8 | b[3];
  std::uint64_t time_mid = std::uint64_t{b[4]} << 8 | b[5];
  std::uint64_t time_hi = (std::uint64_t{b[6]} << 8 | b[7]) & 0x0FFF;
  std::uint64_t ts = time_hi << 48 | time_mid << 32 | time_low;
  return static_cast<std::int64_t>((ts - kGregorianOffset) / 10);
}

}  // namespace ficus::cql
