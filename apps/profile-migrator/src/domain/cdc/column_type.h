// MySQL/MariaDB column type codes as they appear in TABLE_MAP events, and
// the facts the binlog decoders need about each: how many metadata bytes a
// column of the type has and how they are ordered. Pure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ficus::migrator::cdc {

enum ColumnType : std::uint8_t {
  kTypeDecimal = 0,
  kTypeTiny = 1,
  kTypeShort = 2,
  kTypeLong = 3,
  kTypeFloat = 4,
  kTypeDouble = 5,
  kTypeNull = 6,
  kTypeTimestamp = 7,
  kTypeLongLong = 8,
  kTypeInt24 = 9,
  kTypeDate = 10,
  kTypeTime = 11,
  kTypeDatetime = 12,
  kTypeYear = 13,
  kTypeNewDate = 14,
  kTypeVarchar = 15,
  kTypeBit = 16,
  kTypeTimestamp2 = 17,
  kTypeDatetime2 = 18,
  kTypeTime2 = 19,
  kTypeJson = 245,
  kTypeNewDecimal = 246,
  kTypeEnum = 247,
  kTypeSet = 248,
  kTypeTinyBlob = 249,
  kTypeMediumBlob = 250,
  kTypeLongBlob = 251,
  kTypeBlob = 252,
  kTypeVarString = 253,
  kTypeString = 254,
  kTypeGeometry = 255,
};

// Bytes of TABLE_MAP metadata a column of `type` has (0, 1 or 2).
constexpr std::size_t ColumnMetadataSize(std::uint8_t type) {
  switch (type) {
    case kTypeFloat:
    case kTypeDouble:
    case kTypeBlob:
    case kTypeTinyBlob:
    case kTypeMediumBlob:
    case kTypeLongBlob:
    case kTypeGeometry:
    case kTypeJson:
    case kTypeTimestamp2:
    case kTypeDatetime2:
    case kTypeTime2:
      return 1;
    case kTypeVarchar:
    case kTypeVarString:
    case kTypeBit:
    case kTypeNewDecimal:
    case kTypeString:
    case kTypeEnum:
    case kTypeSet:
      return 2;
    default:
      return 0;
  }
}

// VARCHAR's two metadata bytes are a little-endian length; the others' are
// two separate bytes, kept high byte first.
constexpr bool ColumnMetadataIsLittleEndian(std::uint8_t type) {
  return type == kTypeVarchar || type == kTypeVarString;
}

// Types the SIGNEDNESS optional metadata has a bit for.
constexpr bool ColumnIsNumeric(std::uint8_t type) {
  switch (type) {
    case kTypeTiny:
    case kTypeShort:
    case kTypeInt24:
    case kTypeLong:
    case kTypeLongLong:
    case kTypeFloat:
    case kTypeDouble:
    case kTypeNewDecimal:
      return true;
    default:
      return false;
  }
}

}  // namespace ficus::migrator::cdc
