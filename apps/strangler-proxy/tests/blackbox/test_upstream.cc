// ficus-test-upstream: a real HTTP backend for the proxy's black-box tests
// and benchmarks, on packages/http.
//
//   ficus-test-upstream --name legacy [--listen 127.0.0.1] [--port 0]
//                       [--ready-file F] [--log F] [--delay-ms N] [--status N]
//                       [--threads N] [--small]
//
// Every request is answered with a JSON echo of what arrived:
//   {"upstream":NAME,"seq":N,"method":..,"target":..,"headers":[[name,value],..],"body":..}
// and, when --log is given, the same object is appended to the log file as
// one line and flushed before the answer is sent (so a test that got an
// answer, or waited for a mirror, can read exactly what reached the backend).
// --small answers `{"ret":200,"data":null,"msg":""}` (after --delay-ms)
// without echo or log (benchmarks).
//
// Per-request controls (request headers; they are also echoed):
//   X-Test-Delay-Ms: N   answer after N ms (timer; never blocks the loop)
//   X-Test-Status: S     answer with status S
//   X-Test-Echo-Body: digest   echo "body_bytes":N,"body_fnv1a":"<16 hex>"
//                        (FNV-1a 64 of the body) instead of the body
//                        (large-body tests)
// --delay-ms / --status set the defaults for every request. GET /healthz
// answers 200 {"ok":true} (it is logged like any request).
// --answer JSON: answer every request with this body instead of the echo
// (the request is still logged), so two upstreams can answer alike.
// POST /__test/control {"status"?: N, "answer"?: "JSON text"} changes the
// defaults at run time (not logged): a backend that starts failing or
// answering wrong data in the middle of a test.
// The response always carries "X-Upstream: NAME" and a hop-by-hop
// "Proxy-Authenticate: Basic" field (which a proxy must not pass on).
#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>

#include "ficus/http/server.h"

namespace asio = boost::asio;
namespace json = boost::json;
using ficus::http::Request;
using ficus::http::Response;

namespace {

unsigned ParseUnsigned(std::optional<std::string_view> v, unsigned fallback) {
  if (!v) return fallback;
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  return ec == std::errc() && p == v->data() + v->size() ? out : fallback;
}

std::string Fnv1aHex(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

struct Upstream {
  std::string name;
  unsigned delay_ms = 0;
  std::atomic<unsigned> status{200};
  std::string answer;  // guarded by log_mu; empty: echo
  bool small = false;
  std::FILE* log = nullptr;
  std::mutex log_mu;
  std::atomic<uint64_t> seq{0};

  asio::awaitable<Response> Handle(Request& req) {
    if (small) {
      if (delay_ms > 0) {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(std::chrono::milliseconds(delay_ms));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      Response r = Response::Json(200, R"({"ret":200,"data":null,"msg":""})");
      r.headers.Set("X-Upstream", name);
      co_return r;
    }
    if (req.Path() == "/__test/control") {
      boost::system::error_code ec;
      json::value v = json::parse(req.body, ec);
      if (ec || !v.is_object()) co_return Response::Json(400, R"({"error":"body"})");
      if (auto* st = v.as_object().if_contains("status"); st && st->is_int64()) {
        status = static_cast<unsigned>(st->as_int64());
      }
      if (auto* a = v.as_object().if_contains("answer"); a && a->is_string()) {
        std::lock_guard lk(log_mu);
        answer = std::string(a->as_string());
      }
      co_return Response::Json(200, R"({"ok":true})");
    }
    const uint64_t n = ++seq;
    json::object echo;
    echo["upstream"] = name;
    echo["seq"] = n;
    echo["method"] = req.method;
    echo["target"] = req.target;
    json::array headers;
    for (auto f : req.headers) headers.push_back(json::array{f.name, f.value});
    echo["headers"] = std::move(headers);
    if (auto mode = req.headers.Get("X-Test-Echo-Body"); mode && *mode == "digest") {
      echo["body_bytes"] = req.body.size();
      echo["body_fnv1a"] = Fnv1aHex(req.body);
    } else {
      echo["body"] = req.body;
    }
    std::string text = json::serialize(echo);
    {
      std::lock_guard lk(log_mu);
      if (log) {
        std::fputs(text.c_str(), log);
        std::fputc('\n', log);
        std::fflush(log);
      }
      if (!answer.empty()) text = answer;
    }
    const unsigned delay = ParseUnsigned(req.headers.Get("X-Test-Delay-Ms"), delay_ms);
    if (delay > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor);
      t.expires_after(std::chrono::milliseconds(delay));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    unsigned st = ParseUnsigned(req.headers.Get("X-Test-Status"), status);
    if (req.Path() == "/healthz") {
      st = status;
      text = R"({"ok":true})";
    }
    Response r = Response::Json(st, std::move(text));
    r.headers.Set("X-Upstream", name);
    r.headers.Set("Proxy-Authenticate", "Basic");
    co_return r;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ficus-test-upstream: echoing HTTP backend for proxy tests"};
  Upstream up;
  std::string listen = "127.0.0.1";
  uint16_t port = 0;
  unsigned threads = 1;
  std::string ready_file;
  std::string log_path;
  app.add_option("--name", up.name, "name echoed in every answer")->required();
  app.add_option("--listen", listen, "address");
  app.add_option("--port", port, "port (0: any free port)");
  app.add_option("--threads", threads, "event loops");
  app.add_option("--ready-file", ready_file, "write {\"port\":N} here once listening");
  app.add_option("--log", log_path, "append one JSON line per request here");
  app.add_option("--delay-ms", up.delay_ms, "answer every request after this delay");
  unsigned status_flag = 200;
  app.add_option("--status", status_flag, "default status");
  app.add_option("--answer", up.answer, "answer this JSON body instead of the echo");
  app.add_flag("--small", up.small, "tiny fixed answer, no echo, no log (benchmarks)");
  CLI11_PARSE(app, argc, argv);
  up.status = status_flag;
  std::signal(SIGPIPE, SIG_IGN);

  if (!log_path.empty()) {
    up.log = std::fopen(log_path.c_str(), "a");
    if (!up.log) {
      std::fprintf(stderr, "log: cannot open %s\n", log_path.c_str());
      return 2;
    }
  }
  // Block the stop signals before any loop thread exists (threads inherit
  // the mask), so only sigwait() below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ficus::http::ServerOptions opts;
  opts.address = listen;
  opts.port = port;
  opts.threads = threads;
  opts.limits.max_body_bytes = 64ull << 20;
  opts.idle_timeout = std::chrono::milliseconds(120'000);
  ficus::http::Server server(opts, [&up](Request& r) { return up.Handle(r); });
  auto bound = server.Start();
  if (!bound) {
    std::fprintf(stderr, "listen: %s\n", bound.error().message.c_str());
    return 1;
  }
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << "{\"port\":" << *bound << "}\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }
  int sig = 0;
  sigwait(&set, &sig);
  server.Drain(std::chrono::seconds(2));
  return 0;
}
