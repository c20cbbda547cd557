// Splits the row images of a ROWS event into column values, using the
// TABLE_MAP of its table. Pure.
//
// A row image is a null bitmap over the columns present in the image,
// then each present, non-null column's value in the binlog's packed form.
// Integers become int64 (unsigned BIGINT above INT64_MAX is an error);
// CHAR/VARCHAR/BLOB/TEXT/JSON/ENUM-as-string become their bytes; other
// types are decoded only far enough to step over them (their value is
// reported as Opaque). Errors (InvalidArgument, naming the table, column
// and row): truncated images, a type whose size cannot be known.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/cdc/binlog_event.h"
#include "ficus/result.h"

namespace ficus::migrator::cdc {

struct Opaque {
  bool operator==(const Opaque&) const = default;
};

// nullopt = SQL NULL, or a column absent from the image.
using ColumnValue = std::optional<std::variant<std::int64_t, std::string, Opaque>>;
using RowImage = std::vector<ColumnValue>;

struct RowChange {
  std::optional<RowImage> before;  // update, delete
  std::optional<RowImage> after;   // write, update
};

Result<std::vector<RowChange>> DecodeRows(const RowsEventBody& rows, const TableMap& table);

}  // namespace ficus::migrator::cdc
