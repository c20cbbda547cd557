// Response bodies of the bulk endpoints (CONTRACT.md "Bulk endpoints"),
// rendered byte-exact in the {ret,data,msg} envelope. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer::api {

// {"ret":200,"data":{"records":N,"applied":A,"rejected":R,"results":[..]},"msg":""}
// with one result per record, in order: {"ret":200} when applied, else
// {"ret":<status>,"msg":"<error>"} (status from HttpStatusFor).
std::string ImportResultsBody(const std::vector<Status>& statuses);

struct ReadItem {
  Result<Uuid> user;
  Result<Profile> profile;  // meaningful when `user` is ok
};

// {"ret":200,"data":{"profiles":[..]},"msg":""} with one element per
// requested id, in order: {"ret":200,"user_id":..,"updated_at":..,
// "attributes":{..}} (the GET data shape plus "ret"), or
// {"ret":404,"user_id":"..","msg":".."} / {"ret":400,"msg":".."}.
std::string ReadResultsBody(const std::vector<ReadItem>& items);

}  // namespace ficus::writer::api
