#include "ficus/http/completion.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace ficus::http {
namespace {

namespace asio = boost::asio;

TEST(Completion, ResumesOnTheWaitersThreadWhenAnotherThreadSets) {
  asio::io_context io;
  std::thread::id loop_thread;
  std::thread::id resumed_on;
  std::thread::id set_on;
  Result<int> got = MakeError(ErrorCode::kInternal, "unset");
  std::thread worker;  // joined after the loop: the loop must outlive Set() (contract)
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        loop_thread = std::this_thread::get_id();
        Completion<int> done;
        auto completer = done.completer();
        worker = std::thread([completer, &set_on] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          set_on = std::this_thread::get_id();
          EXPECT_TRUE(completer.Set(42));
          EXPECT_FALSE(completer.Set(43));  // first Set wins
        });
        got = co_await done.Wait();
        resumed_on = std::this_thread::get_id();
      },
      asio::detached);
  io.run();
  worker.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 42);
  EXPECT_EQ(resumed_on, loop_thread);
  EXPECT_NE(set_on, loop_thread);
}

TEST(Completion, ValueSetBeforeWaitIsDelivered) {
  asio::io_context io;
  Result<std::string> got = MakeError(ErrorCode::kInternal, "unset");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Completion<std::string> done;
        done.completer().Set("early");
        got = co_await done.Wait();
      },
      asio::detached);
  io.run();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "early");
}

TEST(Completion, AbandonedCompleterGivesAnErrorInsteadOfHanging) {
  asio::io_context io;
  Result<int> got = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Completion<int> done;
        {
          auto c = done.completer();
          std::thread([c] { (void)c; }).join();  // producer drops its copy
        }
        got = co_await done.Wait();
      },
      asio::detached);
  io.run();
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kInternal);
  EXPECT_EQ(got.error().message, "completion abandoned");
}

TEST(Completion, FailDeliversTheError) {
  asio::io_context io;
  Result<int> got = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Completion<int> done;
        auto c = done.completer();
        std::thread([c] { c.Fail(Error(ErrorCode::kUnavailable, "disk full")); }).join();
        got = co_await done.Wait();
      },
      asio::detached);
  io.run();
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, "disk full");
}

}  // namespace
}  // namespace ficus::http
