// WaitFor: polls a condition until it holds or a timeout passes - the one
// "sleep and check again" loop for tests that wait on another process.
//
//   ASSERT_TRUE(WaitFor([&] { return up.Requests().size() == 3; }, 3s));
//
// `pred` is called at once, then every `interval` until it returns true or
// `timeout` has passed since the call; it is always called once more at (or
// after) the deadline, so a condition that became true during the last sleep
// is seen. Returns whether it held. Never waits longer than timeout +
// interval + one call of `pred`.
// Threads: runs `pred` on the calling thread.
#pragma once

#include <chrono>
#include <functional>

namespace ficus::testing {

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = std::chrono::milliseconds(10));

}  // namespace ficus::testing
