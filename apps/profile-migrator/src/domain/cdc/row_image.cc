#include "domain/cdc/row_image.h"

#include "domain/cdc/byte_reader.h"
#include "domain/cdc/column_type.h"

namespace ficus::migrator::cdc {

namespace {

// Byte length of a packed DECIMAL(precision, scale).
std::size_t DecimalBytes(unsigned precision, unsigned scale) {
  static constexpr unsigned kDigits[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  const unsigned intg = precision - scale;
  return (intg / 9) * 4 + kDigits[intg % 9] + (scale / 9) * 4 + kDigits[scale % 9];
}

struct Ctx {
  const TableMap& t;
  std::size_t row;
  tl::unexpected<Error> Fail(std::size_t col, const std::string& what) const {
    std::string name =
        col < t.column_names.size() ? t.column_names[col] : "#" + std::to_string(col + 1);
    return MakeError(ErrorCode::kInvalidArgument, "row " + std::to_string(row + 1) + " of " +
                                                      t.database + "." + t.table + ", column " +
                                                      name + ": " + what);
  }
};

Result<ColumnValue> ReadValue(ByteReader& r, const Ctx& c, std::size_t col) {
  std::uint8_t type = c.t.types[col];
  std::uint16_t meta = c.t.metadata[col];
  auto trunc = [&] { return c.Fail(col, "truncated value"); };
  auto bytes = [&](std::size_t n) -> Result<ColumnValue> {
    std::string s;
    if (!r.String(n, s)) return trunc();
    return ColumnValue{std::move(s)};
  };
  auto length_prefixed = [&](std::size_t prefix) -> Result<ColumnValue> {
    std::uint64_t n = 0;
    if (!r.Uint(prefix, n)) return trunc();
    return bytes(n);
  };
  auto integer = [&](std::size_t n) -> Result<ColumnValue> {
    std::uint64_t u = 0;
    if (!r.Uint(n, u)) return trunc();
    if (c.t.is_unsigned[col]) {
      if (n == 8 && u > static_cast<std::uint64_t>(INT64_MAX)) {
        return c.Fail(col, "unsigned value above INT64_MAX");
      }
      return ColumnValue{static_cast<std::int64_t>(u)};
    }
    if (n < 8 && (u >> (8 * n - 1)) != 0) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return ColumnValue{static_cast<std::int64_t>(u)};
  };
  auto skip = [&](std::size_t n) -> Result<ColumnValue> {
    if (!r.Skip(n)) return trunc();
    return ColumnValue{Opaque{}};
  };
  if (type == kTypeString) {
    // CHAR: metadata is (real type, length) with two high bits of the
    // length folded into the real type byte; ENUM/SET hide here too.
    const std::uint8_t real = meta >> 8;
    if (real == kTypeEnum || real == kTypeSet) {
      type = real;
      meta = meta & 0xFF;
    } else {
      const unsigned max_len = (((meta >> 4) & 0x300) ^ 0x300) + (meta & 0xFF);
      return length_prefixed(max_len > 255 ? 2 : 1);
    }
  }
  switch (type) {
    case kTypeTiny:
      return integer(1);
    case kTypeShort:
      return integer(2);
    case kTypeInt24:
      return integer(3);
    case kTypeLong:
      return integer(4);
    case kTypeLongLong:
      return integer(8);
    case kTypeYear:
      return skip(1);
    case kTypeFloat:
      return skip(4);
    case kTypeDouble:
      return skip(8);
    case kTypeVarchar:
    case kTypeVarString:
      return length_prefixed(meta > 255 ? 2 : 1);
    case kTypeBlob:
    case kTypeTinyBlob:
    case kTypeMediumBlob:
    case kTypeLongBlob:
    case kTypeGeometry:
    case kTypeJson:
      if (meta < 1 || meta > 4) return c.Fail(col, "bad BLOB length size " + std::to_string(meta));
      return length_prefixed(meta);
    case kTypeEnum:
    case kTypeSet:
      if (meta < 1 || meta > 8) return c.Fail(col, "bad ENUM/SET size " + std::to_string(meta));
      return skip(meta);
    case kTypeNewDecimal:
      return skip(DecimalBytes(meta >> 8, meta & 0xFF));
    case kTypeBit:
      return skip((meta & 0xFF) + (((meta >> 8) & 0xFF) != 0 ? 1 : 0));
    case kTypeDate:
    case kTypeNewDate:
    case kTypeTime:
      return skip(3);
    case kTypeTimestamp:
      return skip(4);
    case kTypeDatetime:
      return skip(8);
    case kTypeTimestamp2:
      return skip(4 + (meta + 1) / 2);
    case kTypeDatetime2:
      return skip(5 + (meta + 1) / 2);
    case kTypeTime2:
      return skip(3 + (meta + 1) / 2);
    default:
      return c.Fail(col,
                    "column type " + std::to_string(type) + " is not supported by the follower");
  }
}

Result<RowImage> ReadImage(ByteReader& r, const Ctx& c, const std::vector<bool>& present) {
  std::size_t n_present = 0;
  for (bool p : present) n_present += p ? 1 : 0;
  std::span<const std::uint8_t> nulls;
  if (!r.Bytes((n_present + 7) / 8, nulls)) return c.Fail(0, "truncated null bitmap");
  RowImage image(present.size());
  std::size_t bit = 0;
  for (std::size_t col = 0; col < present.size(); ++col) {
    if (!present[col]) continue;
    const bool is_null = ((nulls[bit / 8] >> (bit % 8)) & 1) != 0;
    ++bit;
    if (is_null) continue;
    auto v = ReadValue(r, c, col);
    if (!v) return tl::unexpected(v.error());
    image[col] = std::move(*v);
  }
  return image;
}

}  // namespace

Result<std::vector<RowChange>> DecodeRows(const RowsEventBody& rows, const TableMap& table) {
  if (rows.column_count != table.types.size() || rows.columns_before.size() != table.types.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "ROWS event for " + table.database + "." + table.table + " has " +
                         std::to_string(rows.column_count) + " columns, its TABLE_MAP " +
                         std::to_string(table.types.size()));
  }
  ByteReader r(rows.rows);
  std::vector<RowChange> out;
  while (r.remaining() > 0) {
    Ctx c{table, out.size()};
    RowChange change;
    auto first = ReadImage(r, c, rows.columns_before);
    if (!first) return tl::unexpected(first.error());
    if (rows.kind == RowsKind::kWrite) {
      change.after = std::move(*first);
    } else {
      change.before = std::move(*first);
    }
    if (rows.kind == RowsKind::kUpdate) {
      auto second = ReadImage(r, c, rows.columns_after);
      if (!second) return tl::unexpected(second.error());
      change.after = std::move(*second);
    }
    out.push_back(std::move(change));
  }
  return out;
}

}  // namespace ficus::migrator::cdc
