// Test helpers: a real server on 127.0.0.1:0, and (from packages/testing) a
// raw blocking socket client, so tests send exact bytes and see exact bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/http/server.h"
#include "ficus/testing/http_text.h"
#include "ficus/testing/raw_client.h"

namespace ficus::http::testing {

// Starts a server (asserts success); drains it on destruction.
class TestServer {
 public:
  TestServer(ServerOptions options, Handler handler);
  ~TestServer();
  std::uint16_t port() const { return port_; }
  Server& server() { return *server_; }

 private:
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

// A handler answering 200 "echo:<method> <target> <body>".
Handler EchoHandler();

// The raw client and the response readers are packages/testing's.
using ficus::testing::BodyOf;
using ficus::testing::HeaderOf;
using ficus::testing::RawClient;
using ficus::testing::StatusOf;

}  // namespace ficus::http::testing
