#include "harness.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "ficus/testing/files.h"
#include "ficus/testing/http_text.h"
#include "ficus/testing/wait_for.h"

namespace ficus::proxy::blackbox {

namespace json = boost::json;
using namespace std::chrono_literals;

using testing::ReadFile;

namespace {

std::optional<uint16_t> ReadReadyPort(const std::string& path, const char* key) {
  boost::system::error_code ec;
  auto v = json::parse(ReadFile(path), ec);
  if (ec || !v.is_object() || !v.as_object().contains(key)) return std::nullopt;
  return static_cast<uint16_t>(v.as_object().at(key).to_number<int>());
}

}  // namespace

std::string ProxyBinary() {
  const char* other = std::getenv("FICUS_TEST_PROXY_BIN");
  return other && *other ? other : FICUS_PROXY_BIN;
}

// ---- Upstream

std::vector<json::object> Upstream::Requests() const {
  std::vector<json::object> out;
  std::istringstream in(ReadFile(log_path));
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

std::optional<json::object> Upstream::WaitFor(const std::function<bool(const json::object&)>& pred,
                                              std::chrono::milliseconds timeout) const {
  std::optional<json::object> found;
  testing::WaitFor(
      [&] {
        for (auto& r : Requests()) {
          if (pred(r)) {
            found = std::move(r);
            return true;
          }
        }
        return false;
      },
      timeout, 20ms);
  return found;
}

// ---- responses

std::optional<std::string> ParsedResponse::Header(std::string_view name) const {
  return testing::HeaderOf(raw, name);
}

json::value ParsedResponse::Json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value() : v;
}

ParsedResponse ParseResponse(std::string raw) {
  ParsedResponse r;
  r.status = testing::StatusOf(raw);
  r.body = testing::BodyOf(raw);
  r.raw = std::move(raw);
  return r;
}

std::optional<std::string> EchoHeader(const json::object& echo, std::string_view name) {
  for (const auto& f : echo.at("headers").as_array()) {
    const auto& pair = f.as_array();
    if (testing::IEquals(pair[0].as_string(), name)) return std::string(pair[1].as_string());
  }
  return std::nullopt;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx =
      static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(v.size() - 1)));
  return v[std::min(idx, v.size() - 1)];
}

// ---- Client

ParsedResponse Client::RoundTrip(std::string_view raw) {
  if (!raw_.connected()) return {};
  raw_.Send(raw);
  return ParseResponse(raw_.ReadResponse());
}

// ---- Stack

Stack::Stack() : dead_port_(FreePort()) {}

Stack::~Stack() {
  // Processes first, then the directory they write in (dir_'s destructor).
  proxy_.reset();
  upstreams_.clear();
}

Upstream& Stack::StartUpstream(const std::string& name, std::vector<std::string> extra) {
  auto up = std::make_unique<Upstream>();
  up->name = name;
  up->log_path = dir_.File(name + ".requests.jsonl");
  const std::string ready = dir_.File(name + ".ready");
  std::vector<std::string> argv = {FICUS_TEST_UPSTREAM_BIN, "--name", name, "--log", up->log_path,
                                   "--ready-file",          ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  up->process = std::make_unique<Process>(argv, dir_.File(name));
  testing::WaitFor(
      [&] {
        if (auto p = ReadReadyPort(ready, "port")) up->port = *p;
        return up->port != 0 || !up->process->running();
      },
      10s);
  if (up->port == 0) throw std::runtime_error("upstream " + name + " did not start");
  upstreams_.push_back(std::move(up));
  return *upstreams_.back();
}

std::string Stack::Expand(const std::string& yaml) const {
  std::string out = yaml;
  auto replace = [&out](const std::string& from, const std::string& to) {
    for (std::size_t pos = 0; (pos = out.find(from, pos)) != std::string::npos;) {
      out.replace(pos, from.size(), to);
      pos += to.size();
    }
  };
  for (const auto& u : upstreams_) replace("${" + u->name + "}", std::to_string(u->port));
  replace("${DEAD}", std::to_string(dead_port_));
  replace("${DIR}", dir_.path());
  return out;
}

void Stack::WriteConfig(const std::string& yaml, bool atomic) {
  if (!testing::WriteFile(config_path(), Expand(yaml), atomic)) {
    throw std::runtime_error("cannot write " + config_path());
  }
}

void Stack::StartProxy(const std::string& yaml) {
  WriteConfig(yaml);
  RestartProxy();
}

void Stack::RestartProxy() {
  const std::string ready = dir_.File("proxy.ready");
  ::unlink(ready.c_str());
  proxy_ = std::make_unique<Process>(
      std::vector<std::string>{ProxyBinary(), "--config", config_path(), "--ready-file", ready},
      dir_.File("proxy"));
  bool up = false;
  testing::WaitFor(
      [&] {
        auto p = ReadReadyPort(ready, "listen");
        auto a = ReadReadyPort(ready, "admin");
        if (p && a) {
          port_ = *p;
          admin_port_ = *a;
          up = true;
        }
        return up || !proxy_->running();
      },
      15s);
  if (up) return;
  throw std::runtime_error("proxy did not start: " + proxy_->Logs());
}

ParsedResponse Stack::Request(std::string_view raw, std::chrono::milliseconds timeout) const {
  Client c(port_, timeout);
  return c.RoundTrip(raw);
}

ParsedResponse Stack::Admin(std::string_view path) const {
  Client c(admin_port_);
  return c.RoundTrip("GET " + std::string(path) + " HTTP/1.1\r\nHost: admin\r\n\r\n");
}

double Stack::Metric(std::string_view series) const {
  const auto text = Admin("/metrics").body;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace ficus::proxy::blackbox
