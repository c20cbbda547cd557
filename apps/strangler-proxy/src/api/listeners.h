// The proxy's two listeners, configured from the config file.
//
// ServerOptionsFor(): http::ServerOptions for `listen` with the config's
// limits (header/URI/body bytes, header/body/idle timeouts) and `threads`
// event loops.
//
// AdminListener: the admin API on `admin.listen`. Plain HTTP by default;
// with `admin.tls` a TlsFront takes admin.listen and relays to the plain
// admin server on a loopback port of its own (client certificates required
// when admin.tls.client_ca_file is set).
// - Open() only builds the TLS context: kInvalidArgument naming the admin.tls
//   field when the certificate or key cannot be used (exit 2, nothing bound).
// - Start() binds; the port clients use (the TLS port when TLS is on), or
//   kUnavailable (nothing left listening).
// - Drain(deadline) finishes admin requests and stops the TLS front.
// Threads: Start and Drain from one thread (main); the server's own loop
// runs the handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "domain/config.h"
#include "ficus/http/server.h"
#include "ficus/http/tls.h"
#include "ficus/http/tls_front.h"
#include "ficus/result.h"

namespace ficus::proxy {

http::ServerOptions ServerOptionsFor(const Config& cfg, const HostPort& listen, unsigned threads);

class AdminListener {
 public:
  static Result<std::unique_ptr<AdminListener>> Open(const Config& cfg, http::Handler handler);
  Result<std::uint16_t> Start();
  void Drain(std::chrono::milliseconds deadline);

 private:
  AdminListener(const Config& cfg, std::shared_ptr<http::TlsContext> tls, http::Handler handler);

  HostPort listen_;
  std::shared_ptr<http::TlsContext> tls_;
  http::Server server_;
  std::unique_ptr<http::TlsFront> front_;
  bool client_ca_ = false;
};

}  // namespace ficus::proxy
