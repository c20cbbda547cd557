// Validation rules and their byte-exact messages, from
// packages/api-contract/CONTRACT.md. Pure functions; the order the checks run
// in is the api layer's job (api/update_request.cc follows the contract's
// table), the rule and the text of each check live here.
//
// Every failing function returns ErrorCode::kInvalidArgument with the
// contract's message (which names the field), unless noted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer {

inline constexpr std::size_t kMaxBodyBytes = 65536;
inline constexpr std::size_t kMaxAttributes = 64;
inline constexpr std::size_t kMaxKeyBytes = 64;
inline constexpr std::size_t kMaxValueBytes = 1024;
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 128;

// Check 4: 1..128 bytes, each 0x21..0x7E.
Status ValidateIdempotencyKey(std::string_view key);

// Check 5: 1..16 ASCII digits, value > 0. Returns microseconds.
Result<std::int64_t> ParseTimestampHeader(std::string_view text);

// Check 6: strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Check 12 (and the GET query): canonical 8-4-4-4-12 hex UUID, any case.
Result<Uuid> ParseUuid(std::string_view text);
// Lowercase canonical text of a UUID.
std::string FormatUuid(const Uuid& uuid);

// Check 15: 1..64 entries.
Status ValidateAttributeCount(std::size_t count);
// Check 16: 1..64 bytes of [A-Za-z0-9_.:-].
Status ValidateAttributeKey(std::string_view key);
// Check 18: string value at most 1024 bytes.
Status ValidateAttributeValue(std::string_view key, std::string_view value);

// Messages of the checks whose rule is a JSON type (run by the api layer).
namespace msg {
inline constexpr std::string_view kMethodPost = "method: use POST";
inline constexpr std::string_view kMethodGet = "method: use GET";
inline constexpr std::string_view kBodyTooLarge = "body: larger than 65536 bytes";
inline constexpr std::string_view kContentType = "Content-Type: must be application/json";
inline constexpr std::string_view kBodyUtf8 = "body: not valid UTF-8";
inline constexpr std::string_view kBodyMalformed = "body: malformed JSON";
inline constexpr std::string_view kBodyNotObject = "body: must be a JSON object";
inline constexpr std::string_view kUserIdRequired = "user_id: required";
inline constexpr std::string_view kUserIdNotString = "user_id: must be a string";
inline constexpr std::string_view kUserIdNotUuid = "user_id: must be a canonical UUID";
inline constexpr std::string_view kAttributesRequired = "attributes: required";
inline constexpr std::string_view kAttributesNotObject = "attributes: must be an object";
inline constexpr std::string_view kNoProfile = "user_id: no profile for this user";
inline constexpr std::string_view kNoEndpoint = "path: no such endpoint";
inline constexpr std::string_view kOverloaded = "overloaded: retry later";
inline constexpr std::string_view kIdemInProgress =
    "Idempotency-Key: a request with this key is in progress";
inline constexpr std::string_view kIdemMismatch =
    "Idempotency-Key: reused with a different request body";
std::string UnknownField(std::string_view key);          // "<key>: unknown field"
std::string ValueNotStringOrNull(std::string_view key);  // "attributes.<key>: value must be ..."
}  // namespace msg

}  // namespace ficus::writer
