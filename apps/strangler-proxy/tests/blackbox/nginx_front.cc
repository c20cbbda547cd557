#include "nginx_front.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "ficus/testing/files.h"
#include "ficus/testing/wait_for.h"
#include "wire_client.h"

namespace ficus::proxy::blackbox {

namespace {
constexpr const char* kNginx = "/usr/sbin/nginx";

// RFC 7239 list syntax, from the nginx wiki's "Using the Forwarded header"
// (as nginx.conf text: nginx turns \t into a tab and \\ into \ before PCRE).
constexpr const char* kForwardedList =
    R"RE(((,[ \t]*)*([!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|\"([\t \x21\x23-\x5B\x5D-\x7E\x80-\xFF]|\\\\[\t \x21-\x7E\x80-\xFF])*\"))?(;([!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|\"([\t \x21\x23-\x5B\x5D-\x7E\x80-\xFF]|\\\\[\t \x21-\x7E\x80-\xFF])*\"))?)*([ \t]*,([ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|\"([\t \x21\x23-\x5B\x5D-\x7E\x80-\xFF]|\\\\[\t \x21-\x7E\x80-\xFF])*\"))?(;([!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|\"([\t \x21\x23-\x5B\x5D-\x7E\x80-\xFF]|\\\\[\t \x21-\x7E\x80-\xFF])*\"))?)*)?)*))RE";

std::string ForwardedMaps(const std::string& trusted) {
  std::string s;
  s += "  geo $ficus_trusted { default 0; " + trusted + " 1; }\n";
  s += "  map $ficus_trusted $ficus_xff { 1 $proxy_add_x_forwarded_for; default $remote_addr; }\n";
  s += "  map \"$ficus_trusted:$http_x_forwarded_proto\" $ficus_xfp {\n"
       "    \"~^1:(?<p>.+)$\" $p; default $scheme; }\n";
  s += "  map \"$ficus_trusted:$http_x_forwarded_host\" $ficus_xfh {\n"
       "    \"~^1:(?<h>.+)$\" $h; default $http_host; }\n";
  s += "  map $http_host $ficus_fwd_host { '' ''; default ';host=\"$http_host\"'; }\n";
  s += "  map $remote_addr $ficus_fwd_elem {\n"
       "    ~^[0-9.]+$ \"for=$remote_addr$ficus_fwd_host;proto=$scheme\";\n"
       "    default \"for=\\\"[$remote_addr]\\\"$ficus_fwd_host;proto=$scheme\"; }\n";
  s += "  map \"$ficus_trusted:$http_forwarded\" $ficus_fwd {\n"
       "    \"1:\" $ficus_fwd_elem;\n"
       "    \"~^1:(?<f>" +
       std::string(kForwardedList) +
       ")$\" \"$f, $ficus_fwd_elem\";\n"
       "    default $ficus_fwd_elem; }\n";
  return s;
}
}  // namespace

bool NginxFront::Available() {
  return ::access(kNginx, X_OK) == 0;
}

NginxFront::NginxFront(const std::string& dir, uint16_t upstream_port, const NginxOptions& options)
    : dir_(dir + "/nginx") {
  std::filesystem::create_directories(dir_);
  port_ = FreePort();
  const std::string user = ::getuid() == 0 ? "user root root;\n" : "";
  std::ofstream(dir_ + "/nginx.conf")
      << user << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << dir_
      << "/nginx.pid;\n"
      << "error_log " << dir_ << "/error.log info;\n"
      << "events { worker_connections 4096; }\n"
      << "http {\n"
      << "  access_log off;\n"
      << "  client_body_temp_path " << dir_ << "/body;\n"
      << "  proxy_temp_path " << dir_ << "/proxy;\n"
      << "  fastcgi_temp_path " << dir_ << "/fcgi;\n"
      << "  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
      << "  scgi_temp_path " << dir_ << "/scgi;\n"
      << "  client_max_body_size 64m;\n"
      << "  upstream app { server 127.0.0.1:" << upstream_port << "; keepalive 16; }\n"
      << "  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }\n"
      << (options.forwarded_trusted.empty() ? std::string()
                                            : ForwardedMaps(options.forwarded_trusted))
      << "  server {\n"
      << "    listen 127.0.0.1:" << port_ << ";\n"
      << "    location / {\n"
      << "      proxy_pass http://app;\n"
      << "      proxy_http_version 1.1;\n"
      << "      proxy_set_header Connection $connection_upgrade;\n"
      << "      proxy_set_header Upgrade $http_upgrade;\n"
      << (options.forwarded_trusted.empty()
              ? std::string()
              : "      proxy_set_header X-Forwarded-For $ficus_xff;\n"
                "      proxy_set_header X-Forwarded-Proto $ficus_xfp;\n"
                "      proxy_set_header X-Forwarded-Host $ficus_xfh;\n"
                "      proxy_set_header Forwarded $ficus_fwd;\n")
      << "      proxy_buffering off;\n"
      << "      proxy_request_buffering off;\n"
      << "      proxy_connect_timeout " << options.connect_timeout_ms << "ms;\n"
      << "      proxy_read_timeout " << options.read_timeout_ms << "ms;\n"
      << "      proxy_send_timeout " << options.read_timeout_ms << "ms;\n"
      << "    }\n"
      << "  }\n"
      << "}\n";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{kNginx, "-p", dir_, "-c", dir_ + "/nginx.conf", "-e",
                               dir_ + "/error.log"},
      dir_ + "/nginx");
  bool up = false;
  testing::WaitFor(
      [&] {
        up = WireClient(port_).connected();
        return up || !process_->running();
      },
      std::chrono::seconds(10));
  if (up) return;
  throw std::runtime_error("nginx did not start: " + Logs());
}

NginxFront::~NginxFront() {
  if (process_ && process_->running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(std::chrono::seconds(3))) process_->Signal(SIGKILL);
  }
}

std::string NginxFront::Logs() const {
  return (process_ ? process_->Logs() : std::string()) + testing::ReadFile(dir_ + "/error.log");
}

}  // namespace ficus::proxy::blackbox
