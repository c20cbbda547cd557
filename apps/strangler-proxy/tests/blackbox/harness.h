// Black-box harness of the strangler proxy: real processes on free loopback
// ports in a temporary directory, stopped by pid.
//
//   Stack s;                                  // temp dir
//   auto& legacy = s.StartUpstream("legacy");  // ficus-test-upstream, logs requests
//   s.StartProxy(yaml_text);                   // ficus-proxy --config --ready-file
//   auto r = s.Request("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
//
// Everything a test starts is SIGKILLed (if still running) when the Stack is
// destroyed, so a failing test leaves no process behind; the directory is
// removed then too, unless FICUS_KEEP_TMP is set. Paths of the two
// binaries come from the build (compile definitions).
#pragma once

#include <sys/types.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/testing/free_port.h"
#include "ficus/testing/process.h"
#include "ficus/testing/raw_client.h"
#include "ficus/testing/temp_dir.h"

namespace ficus::proxy::blackbox {

// Child processes, free ports and the raw client come from packages/testing.
using ficus::testing::FreePort;
using ficus::testing::Process;

struct Upstream {
  std::string name;
  uint16_t port = 0;
  std::string log_path;
  std::unique_ptr<Process> process;
  // Every request logged so far (one JSON object each), in arrival order.
  std::vector<boost::json::object> Requests() const;
  // Polls until `pred` holds for some logged request or the timeout passes.
  std::optional<boost::json::object> WaitFor(
      const std::function<bool(const boost::json::object&)>& pred,
      std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

struct ParsedResponse {
  int status = -1;  // -1: no complete response
  std::string raw;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
  boost::json::value Json() const;  // null if the body is not JSON
};

class Stack {
 public:
  Stack();
  ~Stack();
  const std::string& dir() const { return dir_.path(); }

  // Starts ficus-test-upstream; `extra` are more CLI flags (e.g. --delay-ms).
  Upstream& StartUpstream(const std::string& name, std::vector<std::string> extra = {});
  // Writes the YAML to dir/proxy.yaml (placeholders ${NAME} replaced by the
  // port of the started upstream NAME, ${DEAD} by a port nobody listens on),
  // starts ficus-proxy and waits until it is ready.
  void StartProxy(const std::string& yaml);
  // Starts ficus-proxy again on the config file as it is now (e.g. after a
  // kill: changes written back are kept); new ports.
  void RestartProxy();
  // Rewrites dir/proxy.yaml (same placeholders), atomically when `atomic`.
  void WriteConfig(const std::string& yaml, bool atomic = true);
  std::string Expand(const std::string& yaml) const;
  Process& proxy() { return *proxy_; }
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  std::string config_path() const { return dir_.File("proxy.yaml"); }
  std::string access_log_path() const { return dir_.File("access.log"); }

  // One request on a new connection (bytes sent as given).
  ParsedResponse Request(std::string_view raw,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // GET on the admin listener, e.g. "/metrics".
  ParsedResponse Admin(std::string_view path) const;
  // Value of one metric series from /metrics, e.g.
  // Metric("ficus_proxy_mirror_total{route=\"r\",outcome=\"ok\"}"); -1 if absent.
  double Metric(std::string_view series) const;

 private:
  ficus::testing::TempDir dir_{"ficus-proxy-bb"};
  uint16_t dead_port_ = 0;
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::unique_ptr<Process> proxy_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

// A keep-alive client connection (blocking, with a receive timeout).
class Client {
 public:
  explicit Client(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : raw_(port, timeout) {}
  bool connected() const { return raw_.connected(); }
  // Sends the bytes and reads one Content-Length framed response.
  ParsedResponse RoundTrip(std::string_view raw);

 private:
  ficus::testing::RawClient raw_;
};

ParsedResponse ParseResponse(std::string raw);
// Value of the first header `name` in the echo object (case-insensitive), if any.
std::optional<std::string> EchoHeader(const boost::json::object& echo, std::string_view name);
// Percentile (0..100) of a sample (copied, sorted).
double Percentile(std::vector<double> v, double p);
// The ficus-proxy binary under test: FICUS_TEST_PROXY_BIN when set (e.g. an
// older build, to show a test fails there), else this build's.
std::string ProxyBinary();

}  // namespace ficus::proxy::blackbox
