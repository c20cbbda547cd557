#include "domain/validation.h"

namespace ficus::writer {
namespace {

Error Invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsKeyByte(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

}  // namespace

Status ValidateIdempotencyKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxIdempotencyKeyBytes;
  for (unsigned char c : key) ok = ok && c >= 0x21 && c <= 0x7E;
  if (!ok) {
    return tl::unexpected(Invalid("Idempotency-Key: must be 1 to 128 printable ASCII characters"));
  }
  return {};
}

Result<std::int64_t> ParseTimestampHeader(std::string_view text) {
  std::int64_t value = 0;
  bool ok = !text.empty() && text.size() <= 16;
  for (char c : text) {
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    value = value * 10 + (c - '0');  // 16 digits cannot overflow int64
  }
  if (!ok || value <= 0) {
    return tl::unexpected(
        Invalid("X-Ficus-Timestamp: must be a positive integer of microseconds since the epoch"));
  }
  return value;
}

bool IsValidUtf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

Result<Uuid> ParseUuid(std::string_view text) {
  static constexpr std::size_t kDashes[] = {8, 13, 18, 23};
  auto bad = [] { return tl::unexpected(Invalid(std::string(msg::kUserIdNotUuid))); };
  if (text.size() != 36) return bad();
  Uuid out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == kDashes[0] || i == kDashes[1] || i == kDashes[2] || i == kDashes[3]) {
      if (text[i] != '-') return bad();
      ++i;
      continue;
    }
    int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i + 1 == kDashes[0] || i + 1 == kDashes[1] || i + 1 == kDashes[2] || i + 1 == kDashes[3]) {
      return bad();  // a pair never straddles a dash in the canonical form
    }
    out[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string FormatUuid(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 15]);
  }
  return out;
}

Status ValidateAttributeCount(std::size_t count) {
  if (count < 1 || count > kMaxAttributes) {
    return tl::unexpected(Invalid("attributes: must have 1 to 64 entries"));
  }
  return {};
}

Status ValidateAttributeKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxKeyBytes;
  for (unsigned char c : key) ok = ok && IsKeyByte(c);
  if (!ok) {
    return tl::unexpected(Invalid("attributes." + std::string(key) +
                                  ": key must be 1 to 64 bytes of [A-Za-z0-9_.:-]"));
  }
  return {};
}

Status ValidateAttributeValue(std::string_view key, std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return tl::unexpected(
        Invalid("attributes." + std::string(key) + ": value longer than 1024 bytes"));
  }
  return {};
}

namespace msg {
std::string UnknownField(std::string_view key) {
  return std::string(key) + ": unknown field";
}
std::string ValueNotStringOrNull(std::string_view key) {
  return "attributes." + std::string(key) + ": value must be a string or null";
}
}  // namespace msg

}  // namespace ficus::writer
