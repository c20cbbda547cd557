// FreePort: a TCP port that nothing listens on right now, for a server a test
// starts. The kernel picks it (bind to port 0 on `address`, read it back,
// close), so two calls in a row do not return the same port while the kernel
// still has others to hand out.
//
// It is a race by nature: once the socket is closed another process may take
// the port before the test's server binds it. Prefer a server that binds
// port 0 itself and reports its port; use FreePort where the server must be
// told its port up front (etcd, nginx), and retry on "address in use".
//
// Errors: throws std::runtime_error (naming the address) when `address` is
// not an IPv4 address or the bind fails (e.g. 127.0.0.2 on a host without it).
// Threads: safe from any thread.
#pragma once

#include <cstdint>

namespace ficus::testing {

[[nodiscard]] std::uint16_t FreePort(const char* address = "127.0.0.1");

}  // namespace ficus::testing
