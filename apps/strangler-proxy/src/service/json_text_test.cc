#include "service/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace ficus::proxy {
namespace {

TEST(JsonText, NumbersAsPeopleWriteThem) {
  boost::json::object o{{"percent", 12.5},
                        {"zero", 0.0},
                        {"rate", 0.2},
                        {"whole", 100.0},
                        {"n", 42},
                        {"u", uint64_t{18446744073709551615u}},
                        {"bad", std::numeric_limits<double>::infinity()},
                        {"s", "a\"b"},
                        {"list", boost::json::array{1, 2.5, nullptr, true}}};
  EXPECT_EQ(JsonText(o),
            R"({"percent":12.5,"zero":0,"rate":0.2,"whole":100,"n":42,)"
            R"("u":18446744073709551615,"bad":null,"s":"a\"b","list":[1,2.5,null,true]})");
  // Round trip: the same values come back.
  auto back = boost::json::parse(JsonText(o));
  EXPECT_EQ(back.at("percent").as_double(), 12.5);
  EXPECT_EQ(back.at("rate").as_double(), 0.2);
}

}  // namespace
}  // namespace ficus::proxy
