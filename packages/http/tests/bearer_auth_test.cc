#include "ficus/http/bearer_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace ficus::http {
namespace {

TEST(BearerAuth, ParsesNamedAndBareTokens) {
  auto t = ParseTokenFile("# ops tokens\n ops : s3cret \n\nbare-secret\nempty:\n");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "ops");
  EXPECT_EQ(t[0].secret, "s3cret");
  EXPECT_EQ(t[1].name, "token-4");
  EXPECT_EQ(t[1].secret, "bare-secret");
}

TEST(BearerAuth, ParsesAnOptionalRole) {
  auto t = ParseTokenFile("viewer:v1:read\nops:o1:operate\nold:o2\nodd:a:b\n");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].role, "read");
  EXPECT_EQ(t[0].secret, "v1");
  EXPECT_EQ(t[1].role, "operate");
  EXPECT_EQ(t[1].secret, "o1");
  EXPECT_EQ(t[2].role, "");       // no role given
  EXPECT_EQ(t[3].role, "");       // `b` is not a role:
  EXPECT_EQ(t[3].secret, "a:b");  // it is part of the secret
}

TEST(BearerAuth, MissingWrongGoodAndDisabled) {
  char path[] = "/tmp/ficus-token-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "ops:s3cret\n";
  auto check = [&](std::optional<std::string_view> h) {
    return AuthorizeBearer(path, h, "--bulk-token-file", "bulk endpoints are disabled");
  };
  EXPECT_EQ(check(std::nullopt).kind, AuthResult::Kind::kMissing);
  EXPECT_EQ(check("Basic abc").kind, AuthResult::Kind::kMissing);
  EXPECT_EQ(check("Bearer s3cre").kind, AuthResult::Kind::kDenied);
  EXPECT_EQ(check("Bearer s3cret!").kind, AuthResult::Kind::kDenied);
  auto ok = check("Bearer s3cret");
  EXPECT_EQ(ok.kind, AuthResult::Kind::kOk);
  EXPECT_EQ(ok.token_name, "ops");
  EXPECT_EQ(ok.role, "");
  auto off =
      AuthorizeBearer("", "Bearer s3cret", "--bulk-token-file", "bulk endpoints are disabled");
  EXPECT_EQ(off.kind, AuthResult::Kind::kDisabled);
  EXPECT_EQ(off.message, "--bulk-token-file is not configured: bulk endpoints are disabled");
  EXPECT_EQ(AuthorizeBearer("/nonexistent/token", "Bearer s3cret", "x", "y").kind,
            AuthResult::Kind::kDisabled);
  ::unlink(path);
}

}  // namespace
}  // namespace ficus::http
