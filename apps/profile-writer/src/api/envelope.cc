#include "api/envelope.h"

#include "api/json_text.h"
#include "domain/timestamp.h"
#include "domain/validation.h"

namespace ficus::writer::api {

std::string ErrorBody(int status, std::string_view msg) {
  std::string out = "{\"ret\":" + std::to_string(status) + ",\"data\":null,\"msg\":";
  AppendJsonString(out, msg);
  out.push_back('}');
  return out;
}

std::string OkBody(std::string_view data_json) {
  std::string out = "{\"ret\":200,\"data\":";
  out.append(data_json);
  out.append(",\"msg\":\"\"}");
  return out;
}

std::string ProfileJson(const Uuid& user, const Profile& profile) {
  std::string out = "{\"user_id\":\"" + FormatUuid(user) + "\",\"updated_at\":\"" +
                    FormatTimestampUs(profile.updated_us) + "\",\"attributes\":{";
  bool first = true;
  for (const auto& [key, cell] : profile.cells) {  // std::map: bytewise order
    if (!cell.value) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, key);
    out.push_back(':');
    AppendJsonString(out, *cell.value);
  }
  out += "}}";
  return out;
}

}  // namespace ficus::writer::api
