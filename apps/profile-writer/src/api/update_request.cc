#include "api/update_request.h"

#include <boost/json.hpp>

#include "api/update_fields.h"
#include "domain/validation.h"

namespace ficus::writer::api {
namespace {

tl::unexpected<Error> Bad(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, as PHP fills $_GET.
std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

bool IsJsonMediaType(std::string_view content_type) {
  std::size_t semi = content_type.find(';');
  return IEquals(Trim(content_type.substr(0, semi)), "application/json");
}

Result<UpdateCommand> ParseUpdateRequest(const UpdateHeaders& headers, std::string_view body) {
  // 3: media type.
  if (!headers.content_type || !IsJsonMediaType(*headers.content_type)) {
    return MakeError(ErrorCode::kUnsupported, std::string(msg::kContentType));
  }
  UpdateCommand cmd;
  // 4: Idempotency-Key.
  if (headers.idempotency_key) {
    if (auto s = ValidateIdempotencyKey(*headers.idempotency_key); !s) {
      return tl::unexpected(s.error());
    }
    cmd.idempotency_key = std::string(*headers.idempotency_key);
  }
  // 5: X-Ficus-Timestamp.
  if (headers.timestamp) {
    auto ts = ParseTimestampHeader(*headers.timestamp);
    if (!ts) return tl::unexpected(ts.error());
    cmd.update.ts_us = *ts;
  }
  // 6, 7, 8: UTF-8, JSON, object.
  if (!IsValidUtf8(body)) return Bad(msg::kBodyUtf8);
  boost::json::parse_options opts;
  opts.max_depth = 512;  // PHP json_decode's default depth
  boost::system::error_code ec;
  // The document lives only while this function copies out of it: its nodes
  // come from a stack buffer (a typical update fits; larger bodies spill to
  // the heap), not one malloc per object and string.
  unsigned char arena[4096];
  boost::json::monotonic_resource mr(arena, sizeof arena);
  boost::json::value doc = boost::json::parse(body, ec, &mr, opts);
  if (ec) return Bad(msg::kBodyMalformed);
  const boost::json::object* top = doc.if_object();
  if (top == nullptr) return Bad(msg::kBodyNotObject);
  // 9..18: the fields (shared with the bulk import's records).
  if (auto s = ParseUpdateFields(*top, /*with_ts=*/false, cmd.update); !s) {
    return tl::unexpected(s.error());
  }
  cmd.raw_body = body;
  return cmd;
}

Result<Uuid> ParseGetQuery(std::string_view query) {
  std::optional<std::string> user_id;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (UrlDecode(pair.substr(0, eq)) != "user_id") continue;
    user_id = eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1));
  }
  if (!user_id) return Bad(msg::kUserIdRequired);
  return ParseUuid(*user_id);
}

}  // namespace ficus::writer::api
