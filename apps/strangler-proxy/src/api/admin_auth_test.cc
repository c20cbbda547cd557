#include "api/admin_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace ficus::proxy {
namespace {

TEST(AdminAuth, ParsesNamedAndBareTokens) {
  auto t = ParseTokenFile("# ops tokens\n ops : s3cret \n\nbare-secret\nempty:\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "ops");
  EXPECT_EQ(t[0].secret, "s3cret");
  EXPECT_EQ(t[1].name, "token-4");
  EXPECT_EQ(t[1].secret, "bare-secret");
}

TEST(AdminAuth, MissingWrongAndGoodTokens) {
  char path[] = "/tmp/ficus-token-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "ops:s3cret\n";
  EXPECT_EQ(Authorize(path, std::nullopt).kind, AuthResult::Kind::kMissing);
  EXPECT_EQ(Authorize(path, "Basic abc").kind, AuthResult::Kind::kMissing);
  EXPECT_EQ(Authorize(path, "Bearer s3cre").kind, AuthResult::Kind::kDenied);
  EXPECT_EQ(Authorize(path, "Bearer s3cret!").kind, AuthResult::Kind::kDenied);
  auto ok = Authorize(path, "Bearer s3cret");
  EXPECT_EQ(ok.kind, AuthResult::Kind::kOk);
  EXPECT_EQ(ok.token_name, "ops");
  EXPECT_EQ(Authorize("", "Bearer s3cret").kind, AuthResult::Kind::kDisabled);
  EXPECT_EQ(Authorize("/nonexistent/token", "Bearer s3cret").kind, AuthResult::Kind::kDisabled);
  ::unlink(path);
}

TEST(AdminAuth, RolesReadAndOperate) {
  auto t = ParseTokenFile("viewer:v1:read\nops:o1:operate\nold:o2\nodd:a:b\n");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].role, "read");
  EXPECT_EQ(t[0].secret, "v1");
  EXPECT_EQ(t[1].role, "operate");
  EXPECT_EQ(t[1].secret, "o1");
  EXPECT_EQ(t[2].role, "");  // no role: may operate (format before roles)
  EXPECT_EQ(t[3].secret, "a:b");              // not a role: part of the secret

  char path[] = "/tmp/ficus-token-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "viewer:v1:read\nops:o1:operate\n";
  EXPECT_EQ(Authorize(path, "Bearer v1", AdminRole::kRead).kind, AuthResult::Kind::kOk);
  auto denied = Authorize(path, "Bearer v1", AdminRole::kOperate);
  EXPECT_EQ(denied.kind, AuthResult::Kind::kDenied);
  EXPECT_NE(denied.message.find("role read"), std::string::npos);
  EXPECT_EQ(Authorize(path, "Bearer o1", AdminRole::kRead).kind, AuthResult::Kind::kOk);
  EXPECT_EQ(Authorize(path, "Bearer o1", AdminRole::kOperate).kind, AuthResult::Kind::kOk);
  EXPECT_EQ(Authorize(path, std::nullopt, AdminRole::kRead).kind, AuthResult::Kind::kMissing);
  ::unlink(path);
}

}  // namespace
}  // namespace ficus::proxy
