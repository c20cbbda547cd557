// DTO -> domain for the bulk endpoints (CONTRACT.md "Bulk endpoints").
//
// Import body (application/x-ndjson): one JSON object per line,
// {"user_id":"<uuid>","ts":<microseconds>,"attributes":{...}}, lines
// separated by "\n" (a "\r" before it is ignored); the body may end with one
// "\n". Each line is one record, validated alone: "record: not valid UTF-8",
// "record: malformed JSON", "record: must be a JSON object", then the single
// update's checks 9..18 (update_fields.h, with "ts"). A record's error never
// affects another record.
// Whole-request errors: kInvalidArgument "body: no records";
// kTooLarge "body: more than <max> records".
//
// Read body (text/plain): one user id per line (same line rules). Each is
// Ok(uuid) or the contract's user_id error. Whole-request errors as import
// ("body: no user ids", "body: more than <max> user ids").
#pragma once

#include <string_view>
#include <vector>

#include "domain/bulk_import.h"
#include "ficus/result.h"

namespace ficus::writer::api {

inline constexpr std::string_view kImportContentType = "application/x-ndjson";
inline constexpr std::string_view kReadContentType = "text/plain";

Result<std::vector<ImportRecord>> ParseImportBody(std::string_view body, std::size_t max_records);
Result<std::vector<Result<Uuid>>> ParseReadBody(std::string_view body, std::size_t max_ids);

// True when the media type of a Content-Type value is `type`
// (case-insensitive, parameters allowed).
bool IsMediaType(std::string_view content_type, std::string_view type);

}  // namespace ficus::writer::api
