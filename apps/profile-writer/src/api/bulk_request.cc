#include "api/bulk_request.h"

#include <boost/json.hpp>

#include "api/update_fields.h"
#include "domain/validation.h"

namespace ficus::writer::api {
namespace {

tl::unexpected<Error> Bad(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(message));
}

// Splits the body into lines (see the header); calls f(line) for each.
template <typename F>
void ForEachLine(std::string_view body, F&& f) {
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (body.empty()) return;
  for (;;) {
    std::size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    if (nl == std::string_view::npos) return;
    body.remove_prefix(nl + 1);
  }
}

std::size_t CountLines(std::string_view body) {
  std::size_t n = 0;
  ForEachLine(body, [&n](std::string_view) { ++n; });
  return n;
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

ImportRecord ParseRecord(std::string_view line) {
  ImportRecord rec{std::nullopt, ProfileUpdate{}};
  if (!IsValidUtf8(line)) {
    rec.update = Bad("record: not valid UTF-8");
    return rec;
  }
  boost::json::parse_options opts;
  opts.max_depth = 512;
  boost::system::error_code ec;
  unsigned char arena[4096];
  boost::json::monotonic_resource mr(arena, sizeof arena);
  boost::json::value doc = boost::json::parse(line, ec, &mr, opts);
  if (ec) {
    rec.update = Bad("record: malformed JSON");
    return rec;
  }
  const boost::json::object* top = doc.if_object();
  if (top == nullptr) {
    rec.update = Bad("record: must be a JSON object");
    return rec;
  }
  bool user_known = false;
  Status s = ParseUpdateFields(*top, /*with_ts=*/true, *rec.update, &user_known);
  if (user_known) rec.user = rec.update->user;
  if (!s) rec.update = tl::unexpected(s.error());
  return rec;
}

}  // namespace

bool IsMediaType(std::string_view content_type, std::string_view type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  if (t.size() != type.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (Lower(t[i]) != Lower(type[i])) return false;
  }
  return true;
}

Result<std::vector<ImportRecord>> ParseImportBody(std::string_view body, std::size_t max_records) {
  const std::size_t n = CountLines(body);
  if (n == 0) return Bad("body: no records");
  if (n > max_records) {
    return MakeError(ErrorCode::kTooLarge,
                     "body: more than " + std::to_string(max_records) + " records");
  }
  std::vector<ImportRecord> out;
  out.reserve(n);
  ForEachLine(body, [&out](std::string_view line) { out.push_back(ParseRecord(line)); });
  return out;
}

Result<std::vector<Result<Uuid>>> ParseReadBody(std::string_view body, std::size_t max_ids) {
  const std::size_t n = CountLines(body);
  if (n == 0) return Bad("body: no user ids");
  if (n > max_ids) {
    return MakeError(ErrorCode::kTooLarge,
                     "body: more than " + std::to_string(max_ids) + " user ids");
  }
  std::vector<Result<Uuid>> out;
  out.reserve(n);
  ForEachLine(body, [&out](std::string_view line) {
    if (line.empty()) {
      out.emplace_back(Bad(msg::kUserIdRequired));
    } else {
      out.push_back(ParseUuid(line));
    }
  });
  return out;
}

}  // namespace ficus::writer::api
