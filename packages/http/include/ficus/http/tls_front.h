// TlsFront: TLS for a listener whose Server speaks plain HTTP (the proxy's
// admin listener). It accepts TLS connections on `address:port`, completes
// the handshake (OpenSSL, a context from MakeServerTlsContext), connects to
// the plain Server on 127.0.0.1:backend_port and relays bytes both ways
// until either side closes. The Server itself is untouched: no TLS code on
// its path, its limits and timeouts (header, body, idle) apply as usual and
// close the relay when they close the backend side.
//
// Contract:
// - A handshake not done within handshake_timeout, or failing (plain HTTP
//   to the TLS port, a client without the required certificate, a client
//   that does not trust our certificate), closes the connection; nothing
//   reaches the Server. Counted in handshake_failures().
// - Connections over max_connections are closed at accept.
// - The Server's peer address is the relay's (127.0.0.1): handlers that
//   need the client's address must not sit behind a TlsFront.
// - One event-loop thread; Start() binds and starts it (kInvalidArgument:
//   bad address; kUnavailable: bind failed). Stop() (or the destructor)
//   closes the listener and every relay and joins the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "ficus/http/tls.h"
#include "ficus/result.h"

namespace ficus::http {

struct TlsFrontOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free port
  std::shared_ptr<TlsContext> tls;
  std::uint16_t backend_port = 0;  // the plain Server on 127.0.0.1
  std::chrono::milliseconds handshake_timeout{10'000};
  std::size_t max_connections = 1'000;
};

class TlsFront {
 public:
  explicit TlsFront(TlsFrontOptions options);
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  Result<std::uint16_t> Start();
  void Stop();
  std::uint16_t port() const { return port_; }
  std::uint64_t handshake_failures() const { return handshake_failures_.load(); }

  struct Impl;  // tls_front.cc

 private:
  TlsFrontOptions options_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> handshake_failures_{0};
};

}  // namespace ficus::http
