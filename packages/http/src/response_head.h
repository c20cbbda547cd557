// The fast path for the common upstream answer: a complete HTTP/1.1 head
// with one Content-Length and nothing unusual, parsed in one pass.
//
// Beast's response parser was a fifth of the proxy's user-space work per
// proxied request (profile in bench/RESULTS.md, "what closed the gap to
// nginx"). This parser accepts only a strict subset and says kDecline for everything else
// (HTTP/1.0, 1xx/204/304, Transfer-Encoding, no or repeated Content-Length,
// obs-fold, a bare CR or LF, any byte outside the field grammar), so the
// caller hands exactly the same bytes to Beast: whatever it accepts, Beast
// accepts with the same meaning (a differential test checks this).
//
// Fields: framing and hop-by-hop fields are consumed, as the Beast path
// does (see ClientResponse); the rest is appended to `headers`.
//
// Threads: pure function.
#pragma once

#include <cstdint>
#include <string_view>

#include "ficus/http/message.h"

namespace ficus::http {

struct SimpleResponseHead {
  unsigned status = 0;
  std::size_t head_bytes = 0;  // through the blank line
  // The reason phrase as sent (may be empty): data[13, 13 + reason_len).
  static constexpr std::size_t kReasonPos = 13;
  std::size_t reason_len = 0;
  uint64_t content_length = 0;  // body bytes that follow
  bool keep_alive = true;       // no "Connection: close"
  bool connection_lists_fields = false;
};

enum class HeadParse {
  kOk,        // `out` and `headers` filled
  kNeedMore,  // no blank line yet (and under `max_head_bytes`)
  kDecline,   // not the simple case: parse with Beast; `headers` untouched
};

HeadParse ParseSimpleResponseHead(std::string_view data, std::size_t max_head_bytes,
                                  SimpleResponseHead& out, http::Headers& headers);

}  // namespace ficus::http
