// JsonText(): compact JSON text of a Boost.JSON value with numbers written
// the way people read them: integers as integers, doubles in the shortest
// form that round-trips ("12.5", "0.2", "100"; Boost.JSON would print
// "1.25E1", "2E-1", "1E2"). Non-finite doubles become null. Strings and keys
// are escaped by Boost.JSON itself. Pure, thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace ficus::proxy {

std::string JsonText(const boost::json::value& v);

}  // namespace ficus::proxy
