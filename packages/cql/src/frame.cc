#include "ficus/cql/frame.h"

#include <fmt/format.h>

#include "frame_internal.h"

namespace ficus::cql {

namespace detail {

Writer StartFrame(std::uint8_t version, std::uint8_t flags, std::int16_t stream, Opcode op) {
  Writer w;
  w.Byte(version);
  w.Byte(flags);
  w.Short(static_cast<std::uint16_t>(stream));
  w.Byte(static_cast<std::uint8_t>(op));
  w.Int(0);
  return w;
}

Bytes FinishFrame(Writer w) {
  w.PatchInt(5, static_cast<std::int32_t>(w.size() - kHeaderSize));
  return std::move(w).Take();
}

Error TrailingBytes(const Reader& r) {
  return r.Invalid(r.offset(), "end of body",
                   fmt::format("{} unexpected trailing bytes", r.remaining()));
}

}  // namespace detail

namespace {

bool KnownOpcode(std::uint8_t op) {
  return op <= 0x10 && op != 0x04;
}

}  // namespace

std::string_view OpcodeName(Opcode op) {
  switch (op) {
    case Opcode::kError:
      return "ERROR";
    case Opcode::kStartup:
      return "STARTUP";
    case Opcode::kReady:
      return "READY";
    case Opcode::kAuthenticate:
      return "AUTHENTICATE";
    case Opcode::kOptions:
      return "OPTIONS";
    case Opcode::kSupported:
      return "SUPPORTED";
    case Opcode::kQuery:
      return "QUERY";
    case Opcode::kResult:
      return "RESULT";
    case Opcode::kPrepare:
      return "PREPARE";
    case Opcode::kExecute:
      return "EXECUTE";
    case Opcode::kRegister:
      return "REGISTER";
    case Opcode::kEvent:
      return "EVENT";
    case Opcode::kBatch:
      return "BATCH";
    case Opcode::kAuthChallenge:
      return "AUTH_CHALLENGE";
    case Opcode::kAuthResponse:
      return "AUTH_RESPONSE";
    case Opcode::kAuthSuccess:
      return "AUTH_SUCCESS";
  }
  return "UNKNOWN";
}

Result<FrameHeader> DecodeHeader(ByteView bytes, std::uint8_t expected_version,
                                 std::uint32_t max_body) {
  Reader r(bytes, "frame header");
  FrameHeader h;
  FICUS_CQL_TRY(h.version, r.Byte("version"));
  if (h.version != expected_version) {
    return tl::unexpected(r.Invalid(
        0, "version", fmt::format("got 0x{:02x}, want 0x{:02x}", h.version, expected_version)));
  }
  FICUS_CQL_TRY(h.flags, r.Byte("flags"));
  if (h.flags & kFlagCompression) {
    return tl::unexpected(
        r.Invalid(1, "flags", "compressed frame but no compression was negotiated"));
  }
  FICUS_CQL_TRY(std::uint16_t stream, r.Short("stream"));
  h.stream = static_cast<std::int16_t>(stream);
  FICUS_CQL_TRY(std::uint8_t op, r.Byte("opcode"));
  if (!KnownOpcode(op))
    return tl::unexpected(r.Invalid(4, "opcode", fmt::format("unknown opcode 0x{:02x}", op)));
  h.opcode = static_cast<Opcode>(op);
  FICUS_CQL_TRY(std::int32_t len, r.Int("length"));
  if (len < 0 || static_cast<std::uint32_t>(len) > max_body) {
    return tl::unexpected(
        r.Invalid(5, "length", fmt::format("body length {} outside 0..{}", len, max_body)));
  }
  h.length = static_cast<std::uint32_t>(len);
  return h;
}

}  // namespace ficus::cql
