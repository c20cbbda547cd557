// THE mapping from error codes to HTTP statuses (STYLE.md: one function).
#pragma once

#include "ficus/result.h"

namespace ficus::writer::api {

int HttpStatusFor(ErrorCode code);

}  // namespace ficus::writer::api
