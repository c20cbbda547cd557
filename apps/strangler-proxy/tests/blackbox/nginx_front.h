// nginx as the reference reverse proxy in pass-through tests: the Debian
// nginx binary (a project dependency) started on a free loopback port in a
// directory of its own, in front of one upstream port, configured the way a
// streaming front door is (HTTP/1.1 keep-alive upstream, proxy_buffering
// off, request bodies not buffered). Stopped (SIGKILL if needed) by the
// destructor; by pid only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "harness.h"

namespace ficus::proxy::blackbox {

struct NginxOptions {
  uint32_t connect_timeout_ms = 1000;
  uint32_t read_timeout_ms = 60000;  // proxy_read_timeout (between reads)
  // Non-empty: send X-Forwarded-For/-Proto/-Host and Forwarded, appended to
  // from peers in this CIDR and replaced from any other (geo + map, the
  // nginx wiki's Forwarded recipe), the behaviour ficus-proxy's
  // `forwarded:` block documents.
  std::string forwarded_trusted;
};

class NginxFront {
 public:
  NginxFront(const std::string& dir, uint16_t upstream_port, const NginxOptions& options = {});
  ~NginxFront();
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] std::string Logs() const;
  static bool Available();  // /usr/sbin/nginx exists

 private:
  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace ficus::proxy::blackbox
