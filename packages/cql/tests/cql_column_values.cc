#include "cql_column_values.h"

#include <fmt/format.h>

#include "cql_cell.h"

namespace ficus::cql::testing {
namespace {

tl::unexpected<Error> Invalid(std::string_view what, std::string problem) {
  return MakeError(ErrorCode::kInvalidArgument, fmt::format("{}: {}", what, problem));
}

bool ValidUtf8(ByteView b) {
  std::size_t i = 0;
  while (i < b.size()) {
    const std::uint8_t c = b[i];
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= b.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, out of range or a surrogate
    }
    i += n + 1;
  }
  return true;
}

std::int32_t ReadInt(ByteView b, std::size_t at) {
  return static_cast<std::int32_t>((std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
                                   (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]});
}

std::int64_t ReadLong(ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return static_cast<std::int64_t>(v);
}

// Splits a collection value into its [bytes] elements (`per_entry` of them
// per counted entry: 2 for a map); fails on bad framing.
Result<std::vector<Bytes>> Split(ByteView v, std::string_view what, std::int32_t per_entry) {
  if (v.size() < 4) return Invalid(what, "collection shorter than its element count");
  const std::int32_t entries = ReadInt(v, 0);
  if (entries < 0 || entries > (1 << 24)) return Invalid(what, "bad element count");
  const std::int32_t n = entries * per_entry;
  std::vector<Bytes> out;
  std::size_t at = 4;
  for (std::int32_t i = 0; i < n; ++i) {
    if (at + 4 > v.size()) return Invalid(what, fmt::format("element {} truncated", i));
    const std::int32_t len = ReadInt(v, at);
    at += 4;
    if (len < 0) return Invalid(what, fmt::format("null element {} in a collection", i));
    if (at + static_cast<std::size_t>(len) > v.size()) {
      return Invalid(what, fmt::format("element {} truncated", i));
    }
    out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(at),
                     v.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(len)));
    at += static_cast<std::size_t>(len);
  }
  if (at != v.size()) return Invalid(what, "trailing bytes after the collection");
  return out;
}

void PutBytes(Bytes& out, const Bytes& b) {
  const auto n = static_cast<std::uint32_t>(b.size());
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(n >> s));
  out.insert(out.end(), b.begin(), b.end());
}

std::int64_t TimeUuidTime(ByteView b) {
  const std::uint64_t low =
      (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) | (std::uint64_t{b[2]} << 8) | b[3];
  const std::uint64_t mid = (std::uint64_t{b[4]} << 8) | b[5];
  const std::uint64_t hi = (std::uint64_t{b[6] & 0x0Fu} << 8) | b[7];
  return static_cast<std::int64_t>((hi << 48) | (mid << 32) | low);
}

}  // namespace

Status ValidateValue(const CqlType& type, ByteView v, std::string_view what) {
  auto fixed = [&](std::size_t n, std::string_view name) -> Status {
    if (v.size() != n) {
      return Invalid(what, fmt::format("expected {} bytes for {} ({})", n, name, v.size()));
    }
    return {};
  };
  switch (type.id) {
    case type_id::kBigint:
      return fixed(8, "bigint");
    case type_id::kTimestamp:
      return fixed(8, "timestamp");
    case type_id::kInt:
      return fixed(4, "int");
    case type_id::kBoolean:
      return fixed(1, "boolean");
    case type_id::kUuid:
      return fixed(16, "uuid");
    case type_id::kTimeuuid: {
      auto st = fixed(16, "timeuuid");
      if (!st) return st;
      if ((v[6] >> 4) != 1) return Invalid(what, "unsupported UUID version for timeuuid");
      return {};
    }
    case type_id::kVarchar:
      if (!ValidUtf8(v)) return Invalid(what, "invalid UTF-8 bytes for text");
      return {};
    case type_id::kAscii:
      for (auto c : v) {
        if (c >= 0x80) return Invalid(what, "invalid byte for ascii");
      }
      return {};
    case type_id::kBlob:
      return {};
    case type_id::kMap:
    case type_id::kSet:
    case type_id::kList: {
      const bool map = type.id == type_id::kMap;
      auto parts = Split(v, what, map ? 2 : 1);
      if (!parts) return tl::unexpected(parts.error());
      for (std::size_t i = 0; i < parts->size(); ++i) {
        const CqlType& et = map ? type.params[i % 2] : type.params[0];
        auto st = ValidateValue(et, (*parts)[i], what);
        if (!st) return st;
      }
      return {};
    }
    default:
      return Invalid(what, "type not modelled");
  }
}

std::vector<std::pair<Bytes, Bytes>> CollectionElements(const CqlType& type, ByteView v) {
  std::vector<std::pair<Bytes, Bytes>> out;
  const bool map = type.id == type_id::kMap;
  const std::int32_t n = ReadInt(v, 0);
  std::size_t at = 4;
  auto next = [&] {
    const auto len = static_cast<std::size_t>(ReadInt(v, at));
    at += 4;
    Bytes b(v.begin() + static_cast<std::ptrdiff_t>(at),
            v.begin() + static_cast<std::ptrdiff_t>(at + len));
    at += len;
    return b;
  };
  for (std::int32_t i = 0; i < n; ++i) {
    Bytes k = next();
    Bytes val = map ? next() : Bytes{};
    out.emplace_back(std::move(k), std::move(val));
  }
  return out;
}

Bytes EncodeCollection(const CqlType& type, const std::vector<std::pair<Bytes, Bytes>>& elements) {
  Bytes out(4);
  const auto n = static_cast<std::uint32_t>(elements.size());
  for (int s = 0; s < 4; ++s) out[s] = static_cast<std::uint8_t>(n >> (24 - 8 * s));
  for (const auto& [k, v] : elements) {
    PutBytes(out, k);
    if (type.id == type_id::kMap) PutBytes(out, v);
  }
  return out;
}

ColumnType WireType(const CqlType& type) {
  ColumnType t;
  t.id = type.id;
  for (const auto& p : type.params) t.params.push_back(WireType(p));
  return t;
}

int CompareValues(const CqlType& type, ByteView a, ByteView b) {
  switch (type.id) {
    case type_id::kBigint:
    case type_id::kTimestamp: {
      const std::int64_t x = ReadLong(a), y = ReadLong(b);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case type_id::kInt: {
      const std::int32_t x = ReadInt(a, 0), y = ReadInt(b, 0);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case type_id::kTimeuuid: {
      const std::int64_t x = TimeUuidTime(a), y = TimeUuidTime(b);
      if (x != y) return x < y ? -1 : 1;
      for (std::size_t i = 8; i < 16; ++i) {
        const auto p = static_cast<std::int8_t>(a[i]), q = static_cast<std::int8_t>(b[i]);
        if (p != q) return p < q ? -1 : 1;
      }
      return 0;
    }
    default:
      return CompareUnsigned(a, b);
  }
}

}  // namespace ficus::cql::testing
