#include "api/bulk_response.h"

#include "api/envelope.h"
#include "domain/validation.h"
#include "ficus/http/message.h"
#include "ficus/json_text.h"

namespace ficus::writer::api {
namespace {

void AppendError(std::string& out, const Error& e) {
  out += "{\"ret\":";
  out += std::to_string(http::HttpStatusFor(e.code));
  out += ",\"msg\":";
  AppendJsonString(out, e.message);
  out.push_back('}');
}

}  // namespace

std::string ImportResultsBody(const std::vector<Status>& statuses) {
  std::size_t applied = 0;
  for (const auto& s : statuses) applied += s ? 1 : 0;
  std::string out;
  out.reserve(64 + statuses.size() * 12);
  out += "{\"ret\":200,\"data\":{\"records\":";
  out += std::to_string(statuses.size());
  out += ",\"applied\":";
  out += std::to_string(applied);
  out += ",\"rejected\":";
  out += std::to_string(statuses.size() - applied);
  out += ",\"results\":[";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (statuses[i]) {
      out += "{\"ret\":200}";
    } else {
      AppendError(out, statuses[i].error());
    }
  }
  out += "]},\"msg\":\"\"}";
  return out;
}

std::string ReadResultsBody(const std::vector<ReadItem>& items) {
  std::string out;
  out.reserve(64 + items.size() * 160);
  out += "{\"ret\":200,\"data\":{\"profiles\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    const ReadItem& it = items[i];
    if (!it.user) {
      AppendError(out, it.user.error());
    } else if (it.profile) {
      std::size_t at = out.size();
      AppendProfileJson(out, *it.user, *it.profile);
      out.insert(at + 1, "\"ret\":200,");  // {"ret":200,"user_id":...
    } else {
      out += "{\"ret\":";
      out += std::to_string(http::HttpStatusFor(it.profile.error().code));
      out += ",\"user_id\":\"";
      out += FormatUuid(*it.user);
      out += "\",\"msg\":";
      AppendJsonString(out, it.profile.error().message);
      out.push_back('}');
    }
  }
  out += "]},\"msg\":\"\"}";
  return out;
}

}  // namespace ficus::writer::api
