#include "api/envelope.h"

#include "domain/timestamp.h"
#include "domain/validation.h"
#include "ficus/json_text.h"

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

namespace {

std::size_t ProfileJsonSizeHint(const Profile& profile) {
  std::size_t n = 96;
  for (const auto& [key, cell] : profile.cells) {
    n += key.size() + 6 + (cell.value ? cell.value->size() : 0);
  }
  return n;
}

}  // namespace

void AppendProfileJson(std::string& out, const Uuid& user, const Profile& profile) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "{\"user_id\":\"";
  for (std::size_t i = 0; i < 16; ++i) {  // FormatUuid, in place
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[user[i] >> 4]);
    out.push_back(kHex[user[i] & 15]);
  }
  out += "\",\"updated_at\":\"";
  AppendTimestampUs(out, profile.updated_us);
  out += "\",\"attributes\":{";
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
}

std::string ProfileJson(const Uuid& user, const Profile& profile) {
  std::string out;
  out.reserve(ProfileJsonSizeHint(profile));
  AppendProfileJson(out, user, profile);
  return out;
}

std::string OkProfileBody(const Uuid& user, const Profile& profile) {
  std::string out;
  out.reserve(ProfileJsonSizeHint(profile) + 32);
  out += "{\"ret\":200,\"data\":";
  AppendProfileJson(out, user, profile);
  out += ",\"msg\":\"\"}";
  return out;
}

}  // namespace ficus::writer::api
