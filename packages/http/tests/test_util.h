// Test helpers: a real server on 127.0.0.1:0 and a raw blocking socket
// client, so tests send exact bytes and see exact bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/http/server.h"

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

// Raw client socket with a receive timeout.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawClient();
  bool connected() const { return fd_ >= 0; }
  void Send(std::string_view bytes);
  // Reads one complete response (Content-Length framed); empty on
  // EOF/timeout before a full response.
  std::string ReadResponse();
  // One recv (bytes already buffered by ReadResponse first); empty on
  // EOF/timeout.
  std::string ReadSome();
  // Reads until the peer closes (or timeout); returns everything read.
  std::string ReadAll();
  // True if the peer closed the connection (EOF or reset) within timeout.
  bool WaitClosed();
  void ShutdownWrite();

 private:
  int fd_ = -1;
  std::string pending_;
};

int StatusOf(std::string_view response);
std::string BodyOf(std::string_view response);
std::optional<std::string> HeaderOf(std::string_view response, std::string_view name);

}  // namespace ficus::http::testing
