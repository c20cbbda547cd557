#include "api/listeners.h"

#include <spdlog/spdlog.h>

namespace ficus::proxy {

http::ServerOptions ServerOptionsFor(const Config& cfg, const HostPort& listen, unsigned threads) {
  http::ServerOptions o;
  o.address = listen.host == "localhost" ? "127.0.0.1" : listen.host;
  o.port = listen.port;
  o.threads = threads;
  o.limits.max_header_bytes = cfg.limits.max_header_bytes;
  o.limits.max_uri_bytes = cfg.limits.max_uri_bytes;
  o.limits.max_body_bytes = cfg.limits.max_body_bytes;
  o.header_timeout = std::chrono::milliseconds(cfg.limits.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(cfg.limits.body_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  return o;
}

namespace {

http::ServerOptions AdminServerOptions(const Config& cfg, bool behind_tls) {
  auto o = ServerOptionsFor(cfg, cfg.admin_listen, 1);
  if (behind_tls) {
    o.address = "127.0.0.1";
    o.port = 0;
  }
  return o;
}

}  // namespace

Result<std::unique_ptr<AdminListener>> AdminListener::Open(const Config& cfg,
                                                           http::Handler handler) {
  std::shared_ptr<http::TlsContext> tls;
  if (cfg.admin_tls.enabled) {
    auto ctx = http::MakeServerTlsContext(
        {cfg.admin_tls.cert_file, cfg.admin_tls.key_file, cfg.admin_tls.client_ca_file});
    if (!ctx) return MakeError(ErrorCode::kInvalidArgument, "admin.tls." + ctx.error().message);
    tls = std::move(*ctx);
  }
  return std::unique_ptr<AdminListener>(new AdminListener(cfg, std::move(tls), std::move(handler)));
}

AdminListener::AdminListener(const Config& cfg, std::shared_ptr<http::TlsContext> tls,
                             http::Handler handler)
    : listen_(cfg.admin_listen),
      tls_(std::move(tls)),
      server_(AdminServerOptions(cfg, tls_ != nullptr), std::move(handler)),
      client_ca_(!cfg.admin_tls.client_ca_file.empty()) {}

Result<std::uint16_t> AdminListener::Start() {
  auto port = server_.Start();
  if (!port) {
    return MakeError(ErrorCode::kUnavailable,
                     "admin listen " + listen_.ToString() + ": " + port.error().message);
  }
  if (!tls_) return port;
  http::TlsFrontOptions fo;
  fo.address = listen_.host;
  fo.port = listen_.port;
  fo.tls = tls_;
  fo.backend_port = *port;
  front_ = std::make_unique<http::TlsFront>(std::move(fo));
  auto fp = front_->Start();
  if (!fp) {
    server_.Drain(std::chrono::seconds(0));
    return MakeError(ErrorCode::kUnavailable,
                     "admin listen " + listen_.ToString() + " (tls): " + fp.error().message);
  }
  spdlog::info("admin: https on {}:{} (relayed to 127.0.0.1:{}){}", listen_.host, *fp, *port,
               client_ca_ ? ", client certificates required" : "");
  return fp;
}

void AdminListener::Drain(std::chrono::milliseconds deadline) {
  server_.Drain(deadline);
  if (front_) front_->Stop();
}

}  // namespace ficus::proxy
