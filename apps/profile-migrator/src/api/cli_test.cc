#include "api/cli.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace ficus::migrator {
namespace {

Result<Command> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "profile-migrator");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

std::string ErrorOf(std::vector<const char*> args) {
  auto r = Parse(std::move(args));
  return r ? std::string("<parsed>") : r.error().message;
}

TEST(Cli, ParsesBackfill) {
  auto r = Parse({"backfill", "--writer-url", "http://127.0.0.1:8082", "--mysql-port", "3307",
                  "--partitions", "8", "--rate", "500", "--checkpoint", "/tmp/cp"});
  ASSERT_TRUE(r) << r.error().message;
  auto& b = std::get<BackfillArgs>(*r);
  EXPECT_EQ(b.common.writer.port, 8082);
  EXPECT_EQ(b.common.db.port, 3307);
  EXPECT_EQ(b.common.partitions, 8);
  EXPECT_DOUBLE_EQ(b.common.rate, 500);
  EXPECT_EQ(b.checkpoint, "/tmp/cp");
  EXPECT_EQ(b.common.legacy_zone->name(), "UTC");
  EXPECT_EQ(b.common.workers, kBackfillWorkers);
}

TEST(Cli, ParsesVerifyWithSampleAndRepair) {
  auto r = Parse({"verify", "--writer-url", "http://h:1", "--sample", "5%", "--repair",
                  "--legacy-tz", "Asia/Shanghai"});
  ASSERT_TRUE(r) << r.error().message;
  auto& v = std::get<VerifyArgs>(*r);
  EXPECT_TRUE(v.repair);
  EXPECT_EQ(v.sample.kind, SampleSpec::Kind::kPercent);
  EXPECT_EQ(v.common.legacy_zone->name(), "Asia/Shanghai");
  EXPECT_EQ(v.common.workers, kVerifyWorkers);  // reads gain nothing from more in flight
}

TEST(Cli, ErrorsNameTheOption) {
  EXPECT_NE(ErrorOf({}).find("subcommand"), std::string::npos);
  EXPECT_NE(ErrorOf({"backfill"}).find("--writer-url"), std::string::npos);
  EXPECT_NE(ErrorOf({"backfill", "--writer-url", "ftp://x"}).find("--writer-url"),
            std::string::npos);
  EXPECT_EQ(ErrorOf({"backfill", "--writer-url", "http://x:1", "--partitions", "0"}),
            "--partitions: must be 1 to 256, got 0");
  EXPECT_NE(
      ErrorOf({"backfill", "--writer-url", "http://x:1", "--workers", "many"}).find("--workers"),
      std::string::npos);
  EXPECT_NE(ErrorOf({"backfill", "--writer-url", "http://x:1", "--legacy-tz", "Nowhere/City"})
                .find("--legacy-tz"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"verify", "--writer-url", "http://x:1", "--sample", "0%"}).find("--sample"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"backfill", "--writer-url", "http://x:1", "--bogus"}).find("--bogus"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"verify", "--writer-url", "http://x:1", "--rate", "-1"}).find("--rate"),
            std::string::npos);
}

TEST(Cli, HelpIsNotAnError) {
  auto r = Parse({"backfill", "--help"});
  ASSERT_TRUE(r);
  EXPECT_NE(std::get<HelpRequested>(*r).text.find("--checkpoint"), std::string::npos);
}

}  // namespace
}  // namespace ficus::migrator
