// Internals shared by the frame codec's files (not installed): the frame
// envelope (header with a patched length), trailing-byte errors, the
// QUERY/BATCH flag bits. frame.cc: header and opcodes; frame_request.cc:
// request bodies; frame_response.cc: response bodies; frame_error.cc: ERROR
// codes and their mapping to ficus errors. Reference: CQL native protocol v4.
#pragma once

#include <cstdint>

#include "ficus/cql/frame.h"

namespace ficus::cql::detail {

// QUERY/EXECUTE/BATCH parameter flags (section 4.1.4).
inline constexpr std::uint8_t kQValues = 0x01;
inline constexpr std::uint8_t kQSkipMetadata = 0x02;
inline constexpr std::uint8_t kQPageSize = 0x04;
inline constexpr std::uint8_t kQPagingState = 0x08;
inline constexpr std::uint8_t kQSerialConsistency = 0x10;
inline constexpr std::uint8_t kQTimestamp = 0x20;
inline constexpr std::uint8_t kQNamesForValues = 0x40;

// Header with a length placeholder; FinishFrame patches it.
Writer StartFrame(std::uint8_t version, std::uint8_t flags, std::int16_t stream, Opcode op);
Bytes FinishFrame(Writer w);
// "N unexpected trailing bytes" at the reader's offset.
Error TrailingBytes(const Reader& r);

}  // namespace ficus::cql::detail
