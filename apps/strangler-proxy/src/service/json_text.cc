#include "service/json_text.h"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace ficus::proxy {
namespace {

void Append(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        out += boost::json::serialize(boost::json::string_view(kv.key()));
        out.push_back(':');
        Append(out, kv.value());
      }
      out.push_back('}');
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Append(out, e);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
      out.append(buf, ec == std::errc() ? end : buf);
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

}  // namespace

std::string JsonText(const boost::json::value& v) {
  std::string out;
  out.reserve(256);
  Append(out, v);
  return out;
}

}  // namespace ficus::proxy
