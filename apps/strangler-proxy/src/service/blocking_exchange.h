// BlockingExchange: one HTTP/1.1 exchange with a backend from a plain
// thread (replay workers, the mismatch re-checker), never from an event
// loop. Each calling thread keeps its own io_context and UpstreamPool, so
// connections stay alive between calls of the same thread.
//
// Contract: sends `head` (a complete request head) and `body`, reads the
// answer into memory (at most `max_response_bytes`) and returns it as
// UpstreamPool::Exchange() does (see service/upstream.h); blocks for at most
// the target's connect timeout plus `response_timeout_ms`. Never throws.
// Threads: any thread except an event loop's.
#pragma once

#include <cstdint>
#include <string_view>

#include "service/upstream.h"

namespace ficus::proxy {

UpstreamResult BlockingExchange(const UpstreamTarget& target, std::string_view head,
                                std::string_view body, uint32_t response_timeout_ms,
                                uint64_t max_response_bytes = 16u << 20);

}  // namespace ficus::proxy
