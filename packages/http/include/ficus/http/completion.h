// Completion<T>: resume a coroutine on its own executor when another thread
// produces the result.
//
//   ficus::http::Completion<Result<Ack>> done;
//   queue.Push(Job{..., done.completer()});      // another thread later calls
//                                                // completer.Set(value)
//   Result<Result<Ack>> r = co_await done.Wait(); // resumes on this executor
//
// Contract:
//   - Wait() is co_awaited at most once, from a coroutine; it always resumes
//     on that coroutine's executor (the value is posted to it), never inline
//     on the setter's thread.
//   - Completer is copyable and thread-safe; Set() may be called from any
//     thread, the first Set() wins, later ones are ignored (return false).
//   - If every Completer copy is destroyed without Set(), Wait() completes
//     with Error{kInternal, "completion abandoned"}; a waiter never hangs
//     because a producer dropped its job.
//   - The waiting executor (e.g. the server loop) must outlive the Set()
//     call: stop producers before destroying the loops.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "ficus/result.h"

namespace ficus::http {

template <typename T>
class Completion {
  struct HandlerBase {
    virtual ~HandlerBase() = default;
    virtual void Post(Result<T> r) = 0;
  };
  template <typename H>
  struct HandlerImpl final : HandlerBase {
    explicit HandlerImpl(H&& h) : handler(std::move(h)) {}
    void Post(Result<T> r) override {
      auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::post(
          ex, [h = std::move(handler), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    }
    H handler;
  };

  struct State {
    std::mutex mu;
    std::optional<Result<T>> value;
    std::unique_ptr<HandlerBase> waiter;

    bool Complete(Result<T> r) {
      std::unique_ptr<HandlerBase> w;
      {
        std::lock_guard lk(mu);
        if (value) return false;
        if (!waiter) {
          value.emplace(std::move(r));
          return true;
        }
        value.emplace(MakeError(ErrorCode::kInternal, "completion already delivered"));
        w = std::move(waiter);
      }
      w->Post(std::move(r));
      return true;
    }
  };

  // Shared by all Completer copies; its destruction means "abandoned".
  struct Producer {
    explicit Producer(std::shared_ptr<State> s) : state(std::move(s)) {}
    ~Producer() { state->Complete(MakeError(ErrorCode::kInternal, "completion abandoned")); }
    std::shared_ptr<State> state;
  };

 public:
  class Completer {
   public:
    // Delivers the value; true if this call won (first Set).
    bool Set(T value) const { return producer_->state->Complete(Result<T>(std::move(value))); }
    // Delivers an error instead of a value.
    bool Fail(const Error& error) const {
      return producer_->state->Complete(tl::unexpected(error));
    }

   private:
    friend class Completion;
    explicit Completer(std::shared_ptr<Producer> p) : producer_(std::move(p)) {}
    std::shared_ptr<Producer> producer_;
  };

  Completion() : state_(std::make_shared<State>()) {}

  // All completers share one producer identity. Call before handing work off.
  Completer completer() {
    auto p = producer_.lock();
    if (!p) {
      p = std::make_shared<Producer>(state_);
      producer_ = p;
    }
    return Completer(std::move(p));
  }

  // Suspends until Set/Fail/abandonment; resumes on the caller's executor.
  boost::asio::awaitable<Result<T>> Wait() {
    // The initiation is a named object, not a temporary of the co_await
    // expression: GCC 12 destroys such temporaries twice (its captured
    // shared_ptr would be released twice: use after free).
    auto initiate = [state = state_](auto handler) {
      using H = decltype(handler);
      auto impl = std::make_unique<HandlerImpl<H>>(std::move(handler));
      std::optional<Result<T>> ready;
      {
        std::lock_guard lk(state->mu);
        if (!state->value) {
          state->waiter = std::move(impl);
          return;  // Complete() posts to the waiter
        }
        ready.emplace(std::move(*state->value));
        state->value.emplace(MakeError(ErrorCode::kInternal, "completion already delivered"));
      }
      impl->Post(std::move(*ready));
    };
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(Result<T>)>(initiate,
                                                                    boost::asio::use_awaitable);
  }

 private:
  std::shared_ptr<State> state_;
  std::weak_ptr<Producer> producer_;
};

}  // namespace ficus::http
