// TestFaults: fault injection for black-box tests of the proxy's autopilot
// (issue 15), compiled ONLY into the test binary `profile-writer-test-faults`
// (CMake target with FICUS_WRITER_TEST_FAULTS defined). The production binary
// `profile-writer` has no trace of it: no flag, no env variable, no endpoint
// can turn it on there.
//
// POST /__test/faults {"status": N, "corrupt": bool}   (loopback peers only)
//   status  0: off; 100..599: every /api/ request is answered N (JSON
//           envelope {"ret":N,...}) without reaching the store;
//   corrupt true: every 2xx JSON answer of /api/ whose data has attributes
//           gets one attribute value changed ("<value>~fault", or a key
//           "fault" added when there are none): wrong data, as a bug in the
//           new service would give.
// Answers 200 {"status":N,"corrupt":bool}; a bad body is 400 naming the key.
// Threads: the settings are atomics; Wrap()'s handler runs on any loop.
#pragma once

#include <atomic>

#include "ficus/http/server.h"

namespace ficus::writer::api {

class TestFaults {
 public:
  // `inner`: the router's handler; `head`: its head check (the control path
  // must get past the router's 404 for unknown paths).
  http::Handler Wrap(http::Handler inner);
  http::HeadCheck WrapHead(http::HeadCheck head);

 private:
  std::atomic<int> status_{0};
  std::atomic<bool> corrupt_{false};
};

}  // namespace ficus::writer::api
