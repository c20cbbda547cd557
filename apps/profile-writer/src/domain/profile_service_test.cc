// ProfileService on the real RocksDB store (temp dir): idempotency flow.
#include "domain/profile_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>

#include "domain/merge.h"
#include "ficus/testing/temp_dir.h"
#include "model/rocksdb_profile_store.h"

namespace ficus::writer {
namespace {

namespace fs = std::filesystem;

class WriterProfileServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksDbStoreOptions o;
    o.path = dir_.File("db");
    o.clock = &clock_;
    auto s = RocksDbProfileStore::Open(o);
    ASSERT_TRUE(s);
    store_ = std::move(*s);
    service_ = std::make_unique<ProfileService>(*store_, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
  }
  Result<Profile> Update(std::map<std::string, std::optional<std::string>, std::less<>> attrs,
                         std::optional<std::string> key, const std::string& body) {
    UpdateCommand c;
    c.update.user = user_;
    c.update.attributes = std::move(attrs);
    c.idempotency_key = std::move(key);
    c.raw_body = body;
    std::promise<Result<Profile>> p;
    auto f = p.get_future();
    service_->Update(std::move(c), [&p](Result<Profile> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  ficus::testing::TempDir dir_{"ficus-writer-svc"};
  ManualClock clock_{FromUnixMicros(1700000000000000)};
  Uuid user_{1, 2, 3};
  std::unique_ptr<RocksDbProfileStore> store_;
  std::unique_ptr<ProfileService> service_;
};

TEST_F(WriterProfileServiceTest, StampsWithClockWhenNoTimestamp) {
  auto r = Update({{"a", "1"}}, std::nullopt, "b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->updated_us, 1700000000000000);
}

TEST_F(WriterProfileServiceTest, ReplayReturnsFirstResultAndAppliesNothing) {
  auto first = Update({{"n", "1"}}, "k", "body-1");
  ASSERT_TRUE(first);
  clock_.Advance(Micros{10});
  ASSERT_TRUE(Update({{"m", "2"}}, std::nullopt, "other"));
  clock_.Advance(Micros{10});
  auto replay = Update({{"n", "1"}}, "k", "body-1");
  ASSERT_TRUE(replay);
  EXPECT_EQ(*replay, *first);
  EXPECT_EQ(store_->History(user_, 10)->size(), 2u);  // replay appended nothing
}

TEST_F(WriterProfileServiceTest, OtherBodySameKeyIs422AndWritesNothing) {
  ASSERT_TRUE(Update({{"n", "1"}}, "k", "body-1"));
  auto r = Update({{"n", "2"}}, "k", "body-2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPreconditionFailed);
  EXPECT_EQ(r.error().message, "Idempotency-Key: reused with a different request body");
  EXPECT_EQ(*service_->Get(user_)->cells.at("n").value, "1");
}

TEST_F(WriterProfileServiceTest, ExpiredKeyIsProcessedAgain) {
  ASSERT_TRUE(Update({{"n", "1"}}, "k", "body-1"));
  clock_.Advance(Micros{kIdempotencyRetentionUs});
  auto r = Update({{"n", "2"}}, "k", "body-2");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->cells.at("n").value, "2");
}

TEST_F(WriterProfileServiceTest, GetUnknownIsNotFoundWithContractMessage) {
  auto r = service_->Get(Uuid{9});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "user_id: no profile for this user");
}

}  // namespace
}  // namespace ficus::writer
