// Test helper: run a coroutine to completion on a single-threaded
// io_context, keeping other work (read loops, reconnects) alive between runs.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>

namespace ficus::cql::testing {

template <typename T>
T RunCo(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    failure = std::move(e);
    out.emplace(std::move(v));
    io.stop();
  });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

inline boost::asio::awaitable<bool> SleepFor(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  co_return true;
}

// Lets the io_context process events for `d` (reconnect loops, late answers).
inline void Pump(boost::asio::io_context& io, std::chrono::milliseconds d) {
  RunCo(io, SleepFor(d));
}

}  // namespace ficus::cql::testing
