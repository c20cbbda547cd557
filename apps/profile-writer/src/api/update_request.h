// DTO -> domain for POST /api/v2/profile/update: runs checks 3..18 of
// CONTRACT.md in the contract's order (method and body size, checks 1-2, are
// the router's and the HTTP layer's) and builds the domain command.
//
// Returns the first failing check as kInvalidArgument (400) or kUnsupported
// (415), with the contract's message. The returned command's raw_body views
// `body`, which must outlive it.
#pragma once

#include <optional>
#include <string_view>

#include "domain/profile_service.h"
#include "ficus/result.h"

namespace ficus::writer::api {

struct UpdateHeaders {
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> idempotency_key;
  std::optional<std::string_view> timestamp;
};

Result<UpdateCommand> ParseUpdateRequest(const UpdateHeaders& headers, std::string_view body);

// True when the media type of a Content-Type value is application/json
// (case-insensitive, parameters allowed).
bool IsJsonMediaType(std::string_view content_type);

// GET query: user_id from a query string (no leading '?'); percent-decoded.
// Errors: "user_id: required", "user_id: must be a canonical UUID".
Result<Uuid> ParseGetQuery(std::string_view query);

}  // namespace ficus::writer::api
