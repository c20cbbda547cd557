// The {ret,data,msg} envelope of every response (CONTRACT.md), rendered
// byte-exact. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "domain/profile.h"

namespace ficus::writer::api {

// {"ret":<status>,"data":null,"msg":"<msg>"}
std::string ErrorBody(int status, std::string_view msg);
// {"ret":200,"data":<data_json>,"msg":""}; data_json is already JSON.
std::string OkBody(std::string_view data_json);
// {"user_id":"..","updated_at":"..","attributes":{..visible, sorted..}}
std::string ProfileJson(const Uuid& user, const Profile& profile);
// Appends ProfileJson(user, profile) to `out`.
void AppendProfileJson(std::string& out, const Uuid& user, const Profile& profile);
// OkBody(ProfileJson(user, profile)), built in one buffer.
std::string OkProfileBody(const Uuid& user, const Profile& profile);

}  // namespace ficus::writer::api
