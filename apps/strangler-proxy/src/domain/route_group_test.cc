#include "domain/route_group.h"

#include <gtest/gtest.h>

#include "domain/test_config.h"

namespace ficus::proxy {
namespace {

std::shared_ptr<const Config> Cfg() {
  auto c = ParseConfig(testing::kValidYaml);
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

TEST(RouteGroup, RoutesSharingACohortAreOneGroup) {
  auto cfg = Cfg();
  auto g = GroupOf(*cfg, "profile-get");
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, (std::vector<std::string>{"profile-update", "profile-get"}));
  EXPECT_EQ(GroupName(cfg->routes[0]), "profiles");
}

TEST(RouteGroup, ARouteWithoutCohortIsAGroupOfOne) {
  auto cfg = Cfg();
  auto g = GroupOf(*cfg, "v1-prefix");
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, std::vector<std::string>{"v1-prefix"});
  EXPECT_EQ(GroupName(cfg->routes[2]), "v1-prefix");
  EXPECT_EQ(Groups(*cfg).size(), 2U);
}

TEST(RouteGroup, UnknownRouteIsNotFoundNamingIt) {
  auto g = GroupOf(*Cfg(), "nope");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(g.error().message, "route: no route named 'nope'");
}

TEST(RouteGroup, BacklogIsTheGroupsSum) {
  auto cfg = Cfg();
  // Writes pending for profile-update only: the read route's guard must see them.
  auto b = SumBacklog(*cfg, *GroupOf(*cfg, "profile-get"),
                      [](const std::string& route, const std::string& backend) -> uint64_t {
                        if (route == "profile-update") return backend == "modern" ? 7 : 2;
                        return route == "v1-prefix" ? 100 : 0;
                      });
  EXPECT_EQ(b.to_modern, 7U);
  EXPECT_EQ(b.to_legacy, 2U);
}

}  // namespace
}  // namespace ficus::proxy
