// TLS contexts (OpenSSL, Debian's libssl) for the control-traffic client
// (SyncClient) and for TlsFront (tls_front.h), built once from PEM files.
//
// Contract:
// - MakeClientTlsContext: TLS 1.2+, verifies the server's certificate chain
//   against `ca_file` (empty: the system's trust store) and, per connection,
//   its name against the host dialled (SyncClient does that). cert_file and
//   key_file (both or neither) are presented when the server asks for a
//   client certificate.
// - MakeServerTlsContext: TLS 1.2+, presents cert_file/key_file; with
//   client_ca_file the client must present a certificate signed by it.
// - Errors: kInvalidArgument naming the option (`ca_file`, `cert_file`,
//   `key_file`, `client_ca_file`), the path and OpenSSL's reason (missing
//   file, not PEM, key not matching the certificate). Callers prefix their
//   config key (e.g. "control.tls.").
#pragma once

#include <memory>
#include <string>

#include "ficus/result.h"

namespace boost::asio::ssl {
class context;
}

namespace ficus::http {

using TlsContext = boost::asio::ssl::context;

struct TlsClientFiles {
  std::string ca_file;    // "": the system trust store
  std::string cert_file;  // client certificate (optional)
  std::string key_file;   // its private key
};

struct TlsServerFiles {
  std::string cert_file;       // required
  std::string key_file;        // required
  std::string client_ca_file;  // "": no client certificate asked for
};

Result<std::shared_ptr<TlsContext>> MakeClientTlsContext(const TlsClientFiles& files);
Result<std::shared_ptr<TlsContext>> MakeServerTlsContext(const TlsServerFiles& files);

// OpenSSL's text for an error code of a TLS operation (handshake, read),
// e.g. "certificate verify failed".
std::string TlsErrorText(int ssl_error_value);

}  // namespace ficus::http
