// Value encodings of the CQL types Ficus binds and reads
// (native_protocol_v4.spec section 6): text, bigint, uuid, timeuuid,
// timestamp, int, boolean, inet, map<text,text>, set<text>/list<text>.
//
// Encoders produce the body of a [value]/[bytes] (without its length prefix).
// Decoders take that body and fail with InvalidArgument naming the type and
// the problem (wrong size, truncated element, null element) - never read
// past the input. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/cql/wire.h"
#include "ficus/result.h"

namespace ficus::cql {

Bytes EncodeText(std::string_view s);
Bytes EncodeBigint(std::int64_t v);
Bytes EncodeInt(std::int32_t v);
Bytes EncodeBoolean(bool v);
Bytes EncodeUuid(const Uuid& u);             // uuid and timeuuid
Bytes EncodeTimestamp(std::int64_t millis);  // milliseconds since the epoch
Bytes EncodeTextMap(const std::map<std::string, std::string>& m);
Bytes EncodeTextSet(const std::set<std::string>& s);
Bytes EncodeTextList(const std::vector<std::string>& l);

Result<std::string> DecodeText(ByteView b);
Result<std::int64_t> DecodeBigint(ByteView b);
Result<std::int32_t> DecodeInt(ByteView b);
Result<bool> DecodeBoolean(ByteView b);
Result<Uuid> DecodeUuid(ByteView b);
Result<std::int64_t> DecodeTimestamp(ByteView b);
Result<std::map<std::string, std::string>> DecodeTextMap(ByteView b);
Result<std::set<std::string>> DecodeTextSet(ByteView b);
Result<std::vector<std::string>> DecodeTextList(ByteView b);
// CQL `inet` value (4 or 16 bytes) to its textual form ("10.0.0.1", "::1").
Result<std::string> DecodeInetAddress(ByteView b);

// A version-1 (time-based) UUID whose 60-bit timestamp is derived from
// `micros_since_epoch` (100 ns units since 1582-10-15), with the given
// 14-bit clock sequence and 48-bit node. Sorts by time in CQL `timeuuid`.
Uuid MakeTimeUuid(std::int64_t micros_since_epoch, std::uint16_t clock_seq, std::uint64_t node);
// The microseconds encoded in a version-1 UUID.
std::int64_t TimeUuidMicros(const Uuid& u);

}  // namespace ficus::cql
