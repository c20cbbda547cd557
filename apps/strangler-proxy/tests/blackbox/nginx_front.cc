#include "nginx_front.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "wire_client.h"

namespace ficus::proxy::blackbox {

namespace {
constexpr const char* kNginx = "/usr/sbin/nginx";
}

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
      << "  server {\n"
      << "    listen 127.0.0.1:" << port_ << ";\n"
      << "    location / {\n"
      << "      proxy_pass http://app;\n"
      << "      proxy_http_version 1.1;\n"
      << "      proxy_set_header Connection $connection_upgrade;\n"
      << "      proxy_set_header Upgrade $http_upgrade;\n"
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
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    WireClient probe(port_);
    if (probe.connected()) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("nginx did not start: " + Logs());
}

NginxFront::~NginxFront() {
  if (process_ && process_->running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(std::chrono::seconds(3))) process_->Signal(SIGKILL);
  }
}

std::string NginxFront::Logs() const {
  std::ifstream in(dir_ + "/error.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return (process_ ? process_->Logs() : std::string()) + ss.str();
}

}  // namespace ficus::proxy::blackbox
