// SyncClient: a small blocking HTTP/1.1 client for control traffic (the etcd
// JSON gateway, webhooks, scrapes, tests), where TLS, DNS at each connect or a
// cancellable stream is wanted. Request paths and plain-HTTP peers use the
// pooled http::Client (client.h) or its blocking form (blocking_client.h).
//
// Contract:
// - host: an IP address, "localhost" (127.0.0.1) or a DNS name (resolved
//   at each connect, within `timeout`; every address is tried in turn).
// - One connection to one host:port, kept alive between requests and
//   reopened when the server closed it. One request at a time: the caller
//   serialises (the class is not thread-safe; Cancel() is the one exception).
// - Send(): sets Host and Content-Length, sends the request and reads the
//   whole answer within `timeout` (connect included). Errors: kUnavailable
//   (connect refused/reset/closed; `message` says whether the request may
//   have reached the server: "not sent" when it surely did not), kTimeout,
//   kTooLarge (body over max_body_bytes). A non-2xx status is NOT an error:
//   the caller reads Response::status.
// - Stream(): sends the request, then hands every piece of the body to
//   on_data as it arrives (chunked or length-delimited) until the body ends,
//   on_data returns false, Cancel() is called, or no byte arrives for
//   `idle_timeout` (0 = no idle limit). Connect and the answer head must come
//   within `timeout`. Returns the status; the connection is closed afterwards.
// - Cancel(): from any thread, makes a running Stream() return kUnavailable
//   ("cancelled") within ~100 ms and makes the next calls fail fast until
//   the object is destroyed.
// - TLS (options.tls set, tls.h): every connection is TLS; the server's
//   certificate must chain to the context's CA and name `host` (an IP SAN
//   for an IP). A failed handshake is kUnavailable "(not sent)" with
//   OpenSSL's reason (e.g. "certificate verify failed"). tls unset: plain
//   TCP, no TLS code on the path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ficus/http/message.h"
#include "ficus/http/tls.h"
#include "ficus/result.h"

namespace ficus::http {

struct SyncClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::chrono::milliseconds timeout{2000};
  std::size_t max_body_bytes = 64u << 20;
  std::shared_ptr<TlsContext> tls;  // null: plain TCP
};

class SyncClient {
 public:
  explicit SyncClient(SyncClientOptions options);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  Result<Response> Send(const Request& req);
  Result<unsigned> Stream(const Request& req, const std::function<bool(std::string_view)>& on_data,
                          std::chrono::milliseconds idle_timeout = std::chrono::milliseconds(0));
  void Cancel();
  void Close();

  const SyncClientOptions& options() const { return options_; }

 private:
  struct Impl;
  SyncClientOptions options_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace ficus::http
