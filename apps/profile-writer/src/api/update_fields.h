// Checks 9..18 of CONTRACT.md on an update's parsed top-level JSON object,
// shared by the single update (POST /api/v2/profile/update) and each record
// of a bulk import (POST /internal/profile/import), so both validate
// exactly alike. Returns the first failing check (kInvalidArgument, the
// contract's message); fills `out` (user, attributes) as it goes.
//
// with_ts: the bulk record form. "ts" is then also an accepted field and
// required, checked after user_id: a JSON integer 1..9999999999999999
// (microseconds since the epoch, the X-Ficus-Timestamp range), else
// "ts: required" / "ts: must be a positive integer of microseconds since
// the epoch". `user_known` (optional) is set once user_id passed.
#pragma once

#include <boost/json/object.hpp>

#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer::api {

Status ParseUpdateFields(const boost::json::object& top, bool with_ts, ProfileUpdate& out,
                         bool* user_known = nullptr);

}  // namespace ficus::writer::api
