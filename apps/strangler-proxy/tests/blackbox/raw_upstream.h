// A scriptable raw-socket upstream for black-box tests: it listens on a free
// loopback port (a thread in the test process), reads each request on each
// connection and answers with exactly the bytes a script sends, so a test
// can produce any answer a real backend might (interim 1xx, odd status
// lines, trailers, close-delimited or truncated bodies, stalls).
//
//   RawUpstream up([](RawExchange& x) {
//     x.Send("HTTP/1.1 103 Early Hints\r\n\r\n");
//     x.SleepMs(30);
//     x.Send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
//   });
//   ... up.port() ...
//
// Requests are framed by Content-Length or chunked (the proxy sends nothing
// else); a script that returns keeps the connection for the next request
// unless it called Close(). One thread per connection; the destructor stops
// the listener, shuts every connection down and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ficus::proxy::blackbox {

struct RawRequest {
  std::string head;  // request line and fields, through the blank line
  std::string body;  // decoded
  std::string method, target;
  // Value of the first field `name` (case-insensitive), empty if absent.
  [[nodiscard]] std::string Header(std::string_view name) const;
};

class RawExchange {
 public:
  RawExchange(int fd, RawRequest request, int connection_index, int request_index)
      : fd_(fd),
        request_(std::move(request)),
        connection_(connection_index),
        index_(request_index) {}
  [[nodiscard]] const RawRequest& request() const { return request_; }
  [[nodiscard]] int connection() const { return connection_; }  // 0-based, per upstream
  [[nodiscard]] int index() const { return index_; }  // 0-based request number on this connection
  // Writes all bytes (false once the peer is gone).
  bool Send(std::string_view bytes);
  static void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  // Closes the connection after the script returns (write side at once).
  void Close();
  // Sends an RST instead of a FIN.
  void Reset();
  [[nodiscard]] bool closed() const { return closed_; }
  // Reads raw bytes from the client (after an upgrade); empty on EOF/timeout.
  std::string ReadSome(std::chrono::milliseconds timeout);

 private:
  int fd_;
  RawRequest request_;
  int connection_, index_;
  bool closed_ = false;
};

class RawUpstream {
 public:
  using Script = std::function<void(RawExchange&)>;
  explicit RawUpstream(Script script);
  ~RawUpstream();
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] int connections() const { return connections_.load(); }
  [[nodiscard]] int requests() const { return requests_.load(); }
  // Every request received so far, in arrival order.
  [[nodiscard]] std::vector<RawRequest> Received() const;

 private:
  void Accept();
  void Serve(int fd, int index);

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::vector<RawRequest> received_;
};

}  // namespace ficus::proxy::blackbox
