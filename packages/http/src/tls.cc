#include "ficus/http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <optional>

namespace ficus::http {
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

Error Bad(std::string_view option, const std::string& path, std::string_view why) {
  return {ErrorCode::kInvalidArgument, std::string(option) + " " + path + ": " + std::string(why)};
}

// Exists and readable: the common mistakes get a plain message before
// OpenSSL's.
std::optional<Error> CheckFile(std::string_view option, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Bad(option, path, "no such file");
  if (::access(path.c_str(), R_OK) != 0) return Bad(option, path, "not readable");
  return std::nullopt;
}

std::string Reason(const error_code& ec) {
  std::string s = ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    char buf[256];
    ::ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    s = buf;
  }
  return s;
}

}  // namespace

std::string TlsErrorText(int v) {
  char buf[256];
  ::ERR_error_string_n(static_cast<unsigned long>(v), buf, sizeof buf);
  return buf;
}

Result<std::shared_ptr<TlsContext>> MakeClientTlsContext(const TlsClientFiles& f) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1,
                   ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (f.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return tl::unexpected(Bad("ca_file", "(system)", Reason(ec)));
  } else {
    if (auto e = CheckFile("ca_file", f.ca_file)) return tl::unexpected(*e);
    ctx->load_verify_file(f.ca_file, ec);
    if (ec) return tl::unexpected(Bad("ca_file", f.ca_file, Reason(ec)));
  }
  if (f.cert_file.empty() != f.key_file.empty()) {
    return tl::unexpected(Bad(f.cert_file.empty() ? "cert_file" : "key_file", "(missing)",
                              "cert_file and key_file go together"));
  }
  if (!f.cert_file.empty()) {
    if (auto e = CheckFile("cert_file", f.cert_file)) return tl::unexpected(*e);
    if (auto e = CheckFile("key_file", f.key_file)) return tl::unexpected(*e);
    ctx->use_certificate_chain_file(f.cert_file, ec);
    if (ec) return tl::unexpected(Bad("cert_file", f.cert_file, Reason(ec)));
    ctx->use_private_key_file(f.key_file, ssl::context::pem, ec);
    if (ec) return tl::unexpected(Bad("key_file", f.key_file, Reason(ec)));
    if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return tl::unexpected(Bad("key_file", f.key_file, "does not match cert_file"));
    }
  }
  return ctx;
}

Result<std::shared_ptr<TlsContext>> MakeServerTlsContext(const TlsServerFiles& f) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (f.cert_file.empty()) return tl::unexpected(Bad("cert_file", "(missing)", "required"));
  if (f.key_file.empty()) return tl::unexpected(Bad("key_file", "(missing)", "required"));
  if (auto e = CheckFile("cert_file", f.cert_file)) return tl::unexpected(*e);
  if (auto e = CheckFile("key_file", f.key_file)) return tl::unexpected(*e);
  ctx->use_certificate_chain_file(f.cert_file, ec);
  if (ec) return tl::unexpected(Bad("cert_file", f.cert_file, Reason(ec)));
  ctx->use_private_key_file(f.key_file, ssl::context::pem, ec);
  if (ec) return tl::unexpected(Bad("key_file", f.key_file, Reason(ec)));
  if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return tl::unexpected(Bad("key_file", f.key_file, "does not match cert_file"));
  }
  if (!f.client_ca_file.empty()) {
    if (auto e = CheckFile("client_ca_file", f.client_ca_file)) return tl::unexpected(*e);
    ctx->load_verify_file(f.client_ca_file, ec);
    if (ec) return tl::unexpected(Bad("client_ca_file", f.client_ca_file, Reason(ec)));
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  }
  return ctx;
}

}  // namespace ficus::http
