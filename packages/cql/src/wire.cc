#include "ficus/cql/wire.h"

#include <fmt/format.h>

#include <cassert>
#include <cctype>
#include <limits>

namespace ficus::cql {

namespace {
constexpr std::array<std::pair<Consistency, std::string_view>, 11> kConsistencyNames{{
    {Consistency::kAny, "ANY"},
    {Consistency::kOne, "ONE"},
    {Consistency::kTwo, "TWO"},
    {Consistency::kThree, "THREE"},
    {Consistency::kQuorum, "QUORUM"},
    {Consistency::kAll, "ALL"},
    {Consistency::kLocalQuorum, "LOCAL_QUORUM"},
    {Consistency::kEachQuorum, "EACH_QUORUM"},
    {Consistency::kSerial, "SERIAL"},
    {Consistency::kLocalSerial, "LOCAL_SERIAL"},
    {Consistency::kLocalOne, "LOCAL_ONE"},
}};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string_view ConsistencyName(Consistency c) {
  for (const auto& [value, name] : kConsistencyNames) {
    if (value == c) return name;
  }
  return "UNKNOWN";
}

Result<Consistency> ParseConsistency(std::string_view name) {
  std::string upper(name);
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const auto& [value, n] : kConsistencyNames) {
    if (n == upper) return value;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   fmt::format("unknown consistency level '{}'", name));
}

std::string Uuid::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("uuid '{}': expected 36 characters, got {}", text, text.size()));
  }
  Uuid u;
  std::size_t j = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') {
        return MakeError(ErrorCode::kInvalidArgument,
                         fmt::format("uuid '{}': expected '-' at position {}", text, i));
      }
      ++i;
      continue;
    }
    int hi = HexDigit(text[i]);
    int lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("uuid '{}': non-hex character at position {}", text, i));
    }
    u.bytes[j++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return u;
}

// ---- Writer ----

void Writer::Short(std::uint16_t v) {
  buf_.push_back(static_cast<std::uint8_t>(v >> 8));
  buf_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::Int(std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8)
    buf_.push_back(static_cast<std::uint8_t>(u >> shift));
}

void Writer::Long(std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8)
    buf_.push_back(static_cast<std::uint8_t>(u >> shift));
}

void Writer::String(std::string_view s) {
  assert(s.size() <= std::numeric_limits<std::uint16_t>::max());
  Short(static_cast<std::uint16_t>(s.size()));
  Raw(AsBytes(s));
}

void Writer::LongString(std::string_view s) {
  assert(s.size() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()));
  Int(static_cast<std::int32_t>(s.size()));
  Raw(AsBytes(s));
}

void Writer::BytesValue(ByteView b) {
  assert(b.size() <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()));
  Int(static_cast<std::int32_t>(b.size()));
  Raw(b);
}

void Writer::OptBytes(const std::optional<Bytes>& b) {
  if (b) {
    BytesValue(*b);
  } else {
    NullBytes();
  }
}

void Writer::ValueField(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kSet:
      BytesValue(v.bytes);
      break;
    case Value::Kind::kNull:
      Int(-1);
      break;
    case Value::Kind::kUnset:
      Int(-2);
      break;
  }
}

void Writer::ShortBytes(ByteView b) {
  assert(b.size() <= std::numeric_limits<std::uint16_t>::max());
  Short(static_cast<std::uint16_t>(b.size()));
  Raw(b);
}

void Writer::StringList(const std::vector<std::string>& l) {
  Short(static_cast<std::uint16_t>(l.size()));
  for (const auto& s : l) String(s);
}

void Writer::StringMapField(const StringMap& m) {
  Short(static_cast<std::uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    String(k);
    String(v);
  }
}

void Writer::StringMultimapField(const StringMultimap& m) {
  Short(static_cast<std::uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    String(k);
    StringList(v);
  }
}

void Writer::BytesMapField(const BytesMap& m) {
  Short(static_cast<std::uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    String(k);
    OptBytes(v);
  }
}

void Writer::InetField(const Inet& i) {
  assert(i.address.size() == 4 || i.address.size() == 16);
  Byte(static_cast<std::uint8_t>(i.address.size()));
  Raw(i.address);
  Int(i.port);
}

void Writer::PatchInt(std::size_t offset, std::int32_t v) {
  assert(offset + 4 <= buf_.size());
  auto u = static_cast<std::uint32_t>(v);
  for (int i = 0; i < 4; ++i) buf_[offset + i] = static_cast<std::uint8_t>(u >> (24 - 8 * i));
}

// ---- Reader ----

Error Reader::Truncated(std::string_view what, std::size_t at, std::size_t need) const {
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("cql: truncated {}: {} at offset {}: need {} bytes, have {}", where_,
                           what, at, need, data_.size() - at));
}

Error Reader::Invalid(std::size_t at, std::string_view what, std::string_view why) const {
  return Error(ErrorCode::kInvalidArgument,
               fmt::format("cql: bad {}: {} at offset {}: {}", where_, what, at, why));
}

Result<ByteView> Reader::Take(std::size_t n, std::string_view what, std::size_t field_start) {
  if (remaining() < n) {
    // Report the whole field: the length prefix was already consumed.
    return tl::unexpected(Truncated(what, field_start, n + (pos_ - field_start)));
  }
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

Result<std::uint8_t> Reader::Byte(std::string_view what) {
  FICUS_CQL_TRY(ByteView b, Take(1, what, pos_));
  return b[0];
}

Result<std::uint16_t> Reader::Short(std::string_view what) {
  FICUS_CQL_TRY(ByteView b, Take(2, what, pos_));
  return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

Result<std::int32_t> Reader::Int(std::string_view what) {
  FICUS_CQL_TRY(ByteView b, Take(4, what, pos_));
  std::uint32_t u = 0;
  for (auto x : b) u = u << 8 | x;
  return static_cast<std::int32_t>(u);
}

Result<std::int64_t> Reader::Long(std::string_view what) {
  FICUS_CQL_TRY(ByteView b, Take(8, what, pos_));
  std::uint64_t u = 0;
  for (auto x : b) u = u << 8 | x;
  return static_cast<std::int64_t>(u);
}

Result<ByteView> Reader::Raw(std::size_t n, std::string_view what) {
  return Take(n, what, pos_);
}

Result<std::string> Reader::String(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  FICUS_CQL_TRY(ByteView b, Take(n, what, start));
  return std::string(b.begin(), b.end());
}

Result<std::string> Reader::LongString(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::int32_t n, Int(what));
  if (n < 0) return tl::unexpected(Invalid(start, what, fmt::format("negative length {}", n)));
  FICUS_CQL_TRY(ByteView b, Take(static_cast<std::size_t>(n), what, start));
  return std::string(b.begin(), b.end());
}

Result<std::optional<Bytes>> Reader::BytesField(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::int32_t n, Int(what));
  if (n < 0) return std::optional<Bytes>();
  FICUS_CQL_TRY(ByteView b, Take(static_cast<std::size_t>(n), what, start));
  return std::optional<Bytes>(Bytes(b.begin(), b.end()));
}

Result<Bytes> Reader::NonNullBytes(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::optional<Bytes> b, BytesField(what));
  if (!b) return tl::unexpected(Invalid(start, what, "null where a value is required"));
  return std::move(*b);
}

Result<Value> Reader::ValueField(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::int32_t n, Int(what));
  if (n == -1) return Value::Null();
  if (n == -2) return Value::Unset();
  if (n < 0) {
    return tl::unexpected(Invalid(start, what, fmt::format("invalid [value] length {}", n)));
  }
  FICUS_CQL_TRY(ByteView b, Take(static_cast<std::size_t>(n), what, start));
  return Value::Of(Bytes(b.begin(), b.end()));
}

Result<Bytes> Reader::ShortBytes(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  FICUS_CQL_TRY(ByteView b, Take(n, what, start));
  return Bytes(b.begin(), b.end());
}

Result<std::vector<std::string>> Reader::StringList(std::string_view what) {
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  std::vector<std::string> out;
  out.reserve(std::min<std::size_t>(n, remaining() / 2));
  for (std::uint16_t i = 0; i < n; ++i) {
    FICUS_CQL_TRY(std::string s, String(what));
    out.push_back(std::move(s));
  }
  return out;
}

Result<StringMap> Reader::StringMapField(std::string_view what) {
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  StringMap out;
  for (std::uint16_t i = 0; i < n; ++i) {
    FICUS_CQL_TRY(std::string k, String(fmt::format("{} key", what)));
    FICUS_CQL_TRY(std::string v, String(fmt::format("{}['{}']", what, k)));
    out[std::move(k)] = std::move(v);
  }
  return out;
}

Result<StringMultimap> Reader::StringMultimapField(std::string_view what) {
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  StringMultimap out;
  for (std::uint16_t i = 0; i < n; ++i) {
    FICUS_CQL_TRY(std::string k, String(fmt::format("{} key", what)));
    FICUS_CQL_TRY(auto v, StringList(fmt::format("{}['{}']", what, k)));
    out[std::move(k)] = std::move(v);
  }
  return out;
}

Result<BytesMap> Reader::BytesMapField(std::string_view what) {
  FICUS_CQL_TRY(std::uint16_t n, Short(what));
  BytesMap out;
  for (std::uint16_t i = 0; i < n; ++i) {
    FICUS_CQL_TRY(std::string k, String(fmt::format("{} key", what)));
    FICUS_CQL_TRY(auto v, BytesField(fmt::format("{}['{}']", what, k)));
    out[std::move(k)] = std::move(v);
  }
  return out;
}

Result<Uuid> Reader::UuidField(std::string_view what) {
  FICUS_CQL_TRY(ByteView b, Take(16, what, pos_));
  Uuid u;
  std::copy(b.begin(), b.end(), u.bytes.begin());
  return u;
}

Result<Inet> Reader::InetField(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::uint8_t n, Byte(what));
  if (n != 4 && n != 16) {
    return tl::unexpected(Invalid(start, what, fmt::format("address size {} (want 4 or 16)", n)));
  }
  FICUS_CQL_TRY(ByteView b, Take(n, what, start));
  Inet out;
  out.address.assign(b.begin(), b.end());
  FICUS_CQL_TRY(out.port, Int(what));
  return out;
}

Result<Consistency> Reader::ConsistencyField(std::string_view what) {
  std::size_t start = pos_;
  FICUS_CQL_TRY(std::uint16_t v, Short(what));
  if (v > static_cast<std::uint16_t>(Consistency::kLocalOne)) {
    return tl::unexpected(Invalid(start, what, fmt::format("unknown consistency 0x{:04x}", v)));
  }
  return static_cast<Consistency>(v);
}

}  // namespace ficus::cql
