// The token file format and the bearer check are tested once, in
// packages/http/tests/bearer_auth_test.cc; this covers what the admin wrapper
// adds: its config key and message, and that it passes the file through.
#include "api/admin_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace ficus::proxy {
namespace {

TEST(AdminAuth, ChecksTheAdminTokenFile) {
  char path[] = "/tmp/ficus-token-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "ops:s3cret\n";
  EXPECT_EQ(Authorize(path, "Bearer s3cre").kind, AuthResult::Kind::kDenied);
  auto ok = Authorize(path, "Bearer s3cret");
  EXPECT_EQ(ok.kind, AuthResult::Kind::kOk);
  EXPECT_EQ(ok.token_name, "ops");
  ::unlink(path);
}

TEST(AdminAuth, WithoutATokenFileChangesAreDisabledNamingTheKey) {
  auto off = Authorize("", "Bearer s3cret");
  EXPECT_EQ(off.kind, AuthResult::Kind::kDisabled);
  EXPECT_EQ(off.message,
            "admin.token_file is not configured: changes and protected reads are disabled");
}

TEST(AdminAuth, ReadTokensMayReadButNotOperate) {
  char path[] = "/tmp/ficus-token-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "viewer:v1:read\nops:o1:operate\nold:o2\n";
  EXPECT_EQ(Authorize(path, "Bearer v1", AdminRole::kRead).kind, AuthResult::Kind::kOk);
  auto denied = Authorize(path, "Bearer v1", AdminRole::kOperate);
  EXPECT_EQ(denied.kind, AuthResult::Kind::kDenied);
  EXPECT_EQ(denied.message, "authorization: token 'viewer' has role read; this needs operate");
  EXPECT_EQ(Authorize(path, "Bearer o1", AdminRole::kRead).kind, AuthResult::Kind::kOk);
  EXPECT_EQ(Authorize(path, "Bearer o1", AdminRole::kOperate).kind, AuthResult::Kind::kOk);
  // A token without a role may operate (the file format before roles).
  EXPECT_EQ(Authorize(path, "Bearer o2", AdminRole::kOperate).kind, AuthResult::Kind::kOk);
  EXPECT_EQ(Authorize(path, std::nullopt, AdminRole::kRead).kind, AuthResult::Kind::kMissing);
  ::unlink(path);
}

}  // namespace
}  // namespace ficus::proxy
