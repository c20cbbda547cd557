// RawClient: a blocking TCP client for black-box tests that send exact bytes
// and see exact bytes (HTTP/1.1 on loopback). No HTTP parsing beyond what is
// needed to find where one Content-Length framed response ends; the helpers
// in http_text.h read status, headers and body from the bytes.
//
//   RawClient c(port);                           // connects to 127.0.0.1:port
//   c.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
//   std::string r = c.ReadResponse();             // "" on EOF/timeout first
//
// Every read waits at most `timeout` for the next bytes (SO_RCVTIMEO), every
// send at most `timeout` for buffer space. TCP_NODELAY is on, so each Send
// leaves at once (split requests stay split).
// Errors: never throws; connected() is false when the connection failed, and
// then every read returns "" and Send returns false.
// Threads: one thread at a time per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ficus::testing {

struct RawClientOptions {
  std::string host = "127.0.0.1";
  std::chrono::milliseconds timeout{5000};
  // The local address to connect from (any 127.0.0.0/8 address is loopback
  // on Linux: a test can play clients of different addresses); "" = any.
  std::string source;
};

class RawClient {
 public:
  explicit RawClient(std::uint16_t port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  RawClient(std::uint16_t port, const RawClientOptions& options);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }
  // Writes all bytes; false once the peer is gone (or on timeout).
  bool Send(std::string_view bytes);
  // Reads one complete response, framed by Content-Length (none: no body);
  // interim 100 Continue answers are skipped. Bytes after it stay buffered
  // for the next call. "" on EOF/timeout before a full response.
  std::string ReadResponse();
  // Buffered bytes if any, else one recv; "" on EOF/timeout.
  std::string ReadSome();
  // Reads until the peer closes (or a read times out); everything read.
  std::string ReadAll();
  // True if the peer closed the connection (EOF or reset) within the
  // timeout; bytes that arrive first are discarded.
  bool WaitClosed();
  void ShutdownWrite();
  void Close();

 private:
  int fd_ = -1;
  std::string pending_;
};

// One request on a new connection: sends `request`, reads one response
// (ReadResponse), closes. "" when the connection or the read failed.
std::string RoundTrip(std::uint16_t port, std::string_view request,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ficus::testing
