#include "model/etcd_client_options.h"

#include <fstream>
#include <sstream>

#include "ficus/http/tls.h"

namespace ficus::proxy {

Result<etcd::ClientOptions> EtcdClientOptionsFor(const Config::Control& control) {
  etcd::ClientOptions o;
  o.endpoints = control.endpoints;
  o.timeout = std::chrono::milliseconds(control.timeout_ms);
  if (control.tls.enabled) {
    auto ctx = http::MakeClientTlsContext(
        {control.tls.ca_file, control.tls.cert_file, control.tls.key_file});
    if (!ctx) {
      return MakeError(ErrorCode::kInvalidArgument, "control.tls." + ctx.error().message);
    }
    o.tls = std::move(*ctx);
  }
  if (!control.auth_user.empty()) {
    const auto& path = control.auth_password_file;
    std::ifstream in(path);
    if (!in) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "control.auth.password_file " + path + ": cannot be read");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string pw = ss.str();
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    if (pw.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "control.auth.password_file " + path + ": empty");
    }
    o.user = control.auth_user;
    o.password = std::move(pw);
  }
  auto check = etcd::Client::Create(o);  // endpoint and option consistency
  if (!check) return MakeError(ErrorCode::kInvalidArgument, "control." + check.error().message);
  return o;
}

}  // namespace ficus::proxy
