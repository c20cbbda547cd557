#include "api/update_fields.h"

#include "domain/validation.h"

namespace ficus::writer::api {
namespace {

tl::unexpected<Error> Bad(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(message));
}

constexpr std::string_view kTsRequired = "ts: required";
constexpr std::string_view kTsInvalid =
    "ts: must be a positive integer of microseconds since the epoch";
constexpr std::int64_t kMaxTs = 9'999'999'999'999'999;  // 16 digits, as X-Ficus-Timestamp

}  // namespace

Status ParseUpdateFields(const boost::json::object& top, bool with_ts, ProfileUpdate& out,
                         bool* user_known) {
  // 9: unknown top-level fields, first in document order.
  for (const auto& kv : top) {
    if (kv.key() != "user_id" && kv.key() != "attributes" && !(with_ts && kv.key() == "ts")) {
      return Bad(msg::UnknownField(kv.key()));
    }
  }
  // 10, 11, 12: user_id.
  const boost::json::value* uid = top.if_contains("user_id");
  if (uid == nullptr) return Bad(msg::kUserIdRequired);
  if (!uid->is_string()) return Bad(msg::kUserIdNotString);
  auto user = ParseUuid(uid->get_string());
  if (!user) return tl::unexpected(user.error());
  out.user = *user;
  if (user_known != nullptr) *user_known = true;
  // Bulk records: ts.
  if (with_ts) {
    const boost::json::value* ts = top.if_contains("ts");
    if (ts == nullptr) return Bad(kTsRequired);
    std::int64_t v = 0;
    if (ts->is_int64()) {
      v = ts->get_int64();
    } else if (ts->is_uint64()) {
      v = 0;  // beyond int64: out of range
    } else {
      return Bad(kTsInvalid);
    }
    if (v <= 0 || v > kMaxTs) return Bad(kTsInvalid);
    out.ts_us = v;
  }
  // 13, 14, 15: attributes.
  const boost::json::value* attrs = top.if_contains("attributes");
  if (attrs == nullptr) return Bad(msg::kAttributesRequired);
  const boost::json::object* obj = attrs->if_object();
  if (obj == nullptr) return Bad(msg::kAttributesNotObject);
  if (auto s = ValidateAttributeCount(obj->size()); !s) return tl::unexpected(s.error());
  // 16, 17, 18 per entry in document order (duplicates already folded,
  // last value wins at the first position - as PHP's json_decode).
  for (const auto& kv : *obj) {
    std::string_view key = kv.key();
    if (auto s = ValidateAttributeKey(key); !s) return tl::unexpected(s.error());
    if (kv.value().is_null()) {
      out.attributes.insert_or_assign(std::string(key), std::nullopt);
      continue;
    }
    if (!kv.value().is_string()) return Bad(msg::ValueNotStringOrNull(key));
    std::string_view value = kv.value().get_string();
    if (auto s = ValidateAttributeValue(key, value); !s) return tl::unexpected(s.error());
    out.attributes.insert_or_assign(std::string(key), std::string(value));
  }
  return {};
}

}  // namespace ficus::writer::api
