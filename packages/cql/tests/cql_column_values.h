// Column values of the in-memory table engine (cql_table_engine.h): type
// checks of bound values, collection framing (native_protocol_v4.spec
// section 6: [int n] then n [bytes] elements, map entries key then value),
// the wire type of a column, and the order of clustering values.
// A TEST model. Pure functions, thread-safe.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "cql_subset.h"
#include "ficus/cql/frame.h"
#include "ficus/result.h"

namespace ficus::cql::testing {

// kInvalidArgument naming `what` when `v` is not a valid `type` value
// (size of fixed types, UTF-8 of text, version 1 of timeuuid, collection
// framing and each element).
Status ValidateValue(const CqlType& type, ByteView v, std::string_view what);

// Elements of a valid collection value: (key, value) for a map, (element,
// empty) for a set or list.
std::vector<std::pair<Bytes, Bytes>> CollectionElements(const CqlType& type, ByteView v);
// The value of a collection from its elements (inverse of the above).
Bytes EncodeCollection(const CqlType& type, const std::vector<std::pair<Bytes, Bytes>>& elements);

ColumnType WireType(const CqlType& type);

// <0, 0, >0 in the type's comparator order (ascending): signed for
// bigint/int/timestamp; timeuuid by its 60-bit time, then the remaining
// bytes signed (Cassandra's TimeUUIDType); unsigned bytes otherwise.
int CompareValues(const CqlType& type, ByteView a, ByteView b);

}  // namespace ficus::cql::testing
