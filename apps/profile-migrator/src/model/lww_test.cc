#include "model/lww.h"

#include <gtest/gtest.h>

namespace ficus::migrator {
namespace {

const std::optional<std::string> kNull;

TEST(Lww, NewerWinsOlderLoses) {
  EXPECT_TRUE(LwwWins(2, "a", 1, "b"));
  EXPECT_FALSE(LwwWins(1, "a", 2, "b"));
  EXPECT_FALSE(LwwWins(1, kNull, 2, "b"));  // an old delete cannot remove a newer value
  EXPECT_FALSE(LwwWins(1, "a", 2, kNull));  // an old write cannot revive a newer tombstone
}

TEST(Lww, TiesResolveLikeScyllaCells) {
  EXPECT_TRUE(LwwWins(5, kNull, 5, "b"));  // tombstone beats value
  EXPECT_FALSE(LwwWins(5, "b", 5, kNull));
  EXPECT_TRUE(LwwWins(5, "b", 5, "a"));  // bytewise greater wins
  EXPECT_FALSE(LwwWins(5, "a", 5, "b"));
  EXPECT_FALSE(LwwWins(5, "a", 5, "a"));  // identical: nothing to do
  EXPECT_FALSE(LwwWins(5, kNull, 5, kNull));
  EXPECT_TRUE(LwwWins(5, "\xc3\xa9", 5, "z"));  // bytes, not characters
}

}  // namespace
}  // namespace ficus::migrator
