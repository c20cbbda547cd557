#include "ficus/http/sync_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <vector>

namespace ficus::http {
namespace asio = boost::asio;
namespace bh = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {
constexpr auto kSlice = std::chrono::milliseconds(50);

bool Stale(const error_code& ec) {
  return ec == bh::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}
}  // namespace

struct SyncClient::Impl {
  asio::io_context ioc{1};
  tcp::socket sock{ioc};
  std::optional<asio::ssl::stream<tcp::socket&>> tls;  // set per connection when TLS is on
  boost::beast::flat_buffer buf;
  bool open = false;

  void Close() {
    error_code ignored;
    sock.close(ignored);
    tls.reset();
    open = false;
    buf.clear();
  }

  // Runs `f` on the connection's stream: the TLS stream, else the socket.
  template <class F>
  void Io(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(sock);
    }
  }

  // Connects (and with TLS, handshakes) within `deadline`.
  Result<void> Connect(const SyncClientOptions& o, Clock::time_point deadline,
                       const std::atomic<bool>& cancelled);

  // Runs the loop until `done`. At `deadline` (or when cancelled) the socket
  // is closed, which completes the pending operation with an error; returns
  // true then.
  bool Run(const bool& done, Clock::time_point deadline, const std::atomic<bool>& cancelled) {
    bool interrupted = false;
    ioc.restart();
    while (!done) {
      const auto now = Clock::now();
      if (now >= deadline || cancelled.load()) {
        interrupted = true;
        error_code ignored;
        sock.close(ignored);
        open = false;
        ioc.restart();
        ioc.run();
        break;
      }
      ioc.run_for(std::min<Clock::duration>(kSlice, deadline - now));
      if (ioc.stopped()) ioc.restart();
    }
    return interrupted;
  }
};

SyncClient::SyncClient(SyncClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}
SyncClient::~SyncClient() = default;

void SyncClient::Cancel() {
  cancelled_.store(true);
}
void SyncClient::Close() {
  impl_->Close();
}

namespace {

Error IoError(std::string_view what, const error_code& ec, bool timed_out, bool sent) {
  if (timed_out) return {ErrorCode::kTimeout, std::string(what) + ": deadline passed"};
  return {ErrorCode::kUnavailable,
          std::string(what) + ": " + ec.message() + (sent ? "" : " (not sent)")};
}

bh::request<bh::string_body> ToBeast(const Request& req, const SyncClientOptions& o) {
  bh::request<bh::string_body> br;
  br.method_string(req.method);
  br.target(req.target);
  br.version(11);
  for (const auto& f : req.headers) br.insert(f.name, f.value);
  br.set(bh::field::host, o.host + ":" + std::to_string(o.port));
  br.body() = req.body;
  br.prepare_payload();
  return br;
}

}  // namespace

Result<void> SyncClient::Impl::Connect(const SyncClientOptions& o, Clock::time_point deadline,
                                       const std::atomic<bool>& cancelled) {
  const std::string where = (o.tls ? "https://" : "") + o.host + ":" + std::to_string(o.port);
  error_code aec;
  auto addr = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, aec);
  std::vector<tcp::endpoint> targets;
  error_code ec;
  bool done = false;
  if (!aec) {
    targets.emplace_back(addr, o.port);
  } else {  // a DNS name (e.g. etcd-0.etcd in Kubernetes): resolved within the deadline
    tcp::resolver resolver(ioc);
    resolver.async_resolve(o.host, std::to_string(o.port),
                           [&](const error_code& e, const tcp::resolver::results_type& rs) {
                             ec = e;
                             for (const auto& r : rs) targets.push_back(r.endpoint());
                             done = true;
                           });
    const bool late = Run(done, deadline, cancelled);
    if (late) resolver.cancel();
    if (ec || late || targets.empty()) {
      return MakeError(
          late ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
          "resolve " + where + ": " + (late ? "deadline passed" : ec.message()) + " (not sent)");
    }
  }
  buf.clear();
  done = false;
  asio::async_connect(sock, targets, [&](const error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  bool late = Run(done, deadline, cancelled);
  if (ec || late) {
    Close();
    return tl::unexpected(IoError("connect " + where, ec, late && !cancelled.load(), false));
  }
  if (o.tls) {
    tls.emplace(sock, *o.tls);
    tls->set_verify_callback(asio::ssl::host_name_verification(o.host));
    done = false;
    tls->async_handshake(asio::ssl::stream_base::client, [&](const error_code& e) {
      ec = e;
      done = true;
    });
    late = Run(done, deadline, cancelled);
    if (ec || late) {
      std::string why = ec.message();
      if (ec.category() == asio::error::get_ssl_category()) why = TlsErrorText(ec.value());
      Close();
      if (late && !cancelled.load()) {
        return MakeError(ErrorCode::kTimeout, "TLS handshake with " + where + ": deadline passed");
      }
      return MakeError(ErrorCode::kUnavailable,
                       "TLS handshake with " + where + ": " + why + " (not sent)");
    }
  }
  open = true;
  return {};
}

Result<Response> SyncClient::Send(const Request& req) {
  if (cancelled_.load()) return MakeError(ErrorCode::kUnavailable, "cancelled (not sent)");
  Impl& im = *impl_;
  const auto deadline = Clock::now() + options_.timeout;
  auto br = ToBeast(req, options_);
  for (int attempt = 0;; ++attempt) {
    const bool reused = im.open;
    bool done = false;
    error_code ec;
    if (!im.open) {
      auto c = im.Connect(options_, deadline, cancelled_);
      if (!c) return tl::unexpected(c.error());
    }
    done = false;
    im.Io([&](auto& stream) {
      bh::async_write(stream, br, [&](const error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
    });
    bool late = im.Run(done, deadline, cancelled_);
    if (ec || late) {
      im.Close();
      if (reused && attempt == 0 && !late && Stale(ec)) continue;
      return tl::unexpected(IoError("write", ec, late && !cancelled_.load(), true));
    }
    bh::response_parser<bh::string_body> p;
    p.body_limit(options_.max_body_bytes);
    p.header_limit(64 * 1024);
    done = false;
    im.Io([&](auto& stream) {
      bh::async_read(stream, im.buf, p, [&](const error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
    });
    late = im.Run(done, deadline, cancelled_);
    if (ec || late) {
      const bool nothing = !p.got_some();
      im.Close();
      if (reused && attempt == 0 && !late && nothing && Stale(ec)) continue;
      if (ec == bh::error::body_limit) {
        return MakeError(ErrorCode::kTooLarge,
                         "answer body over " + std::to_string(options_.max_body_bytes) + " bytes");
      }
      return tl::unexpected(IoError("read", ec, late && !cancelled_.load(), true));
    }
    auto& msg = p.get();
    Response r;
    r.status = msg.result_int();
    for (const auto& f : msg) r.headers.Add(f.name_string(), f.value());
    r.body = std::move(msg.body());
    if (!msg.keep_alive()) im.Close();
    return r;
  }
}

Result<unsigned> SyncClient::Stream(const Request& req,
                                    const std::function<bool(std::string_view)>& on_data,
                                    std::chrono::milliseconds idle_timeout) {
  if (cancelled_.load()) return MakeError(ErrorCode::kUnavailable, "cancelled (not sent)");
  Impl& im = *impl_;
  im.Close();
  auto deadline = Clock::now() + options_.timeout;
  error_code ec;
  bool done = false;
  if (auto c = im.Connect(options_, deadline, cancelled_); !c) return tl::unexpected(c.error());
  auto br = ToBeast(req, options_);
  im.Io([&](auto& stream) {
    bh::async_write(stream, br, [&](const error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
  });
  bool late = im.Run(done, deadline, cancelled_);
  if (ec || late) {
    im.Close();
    return tl::unexpected(IoError("write", ec, late && !cancelled_.load(), true));
  }
  bh::response_parser<bh::string_body> p;
  p.body_limit(boost::none);  // a stream has no total size; each piece is bounded by the buffer
  p.header_limit(64 * 1024);
  bool stop = false;
  auto on_chunk = [&](std::uint64_t, std::string_view body, error_code&) -> std::size_t {
    if (!stop && !on_data(body)) stop = true;
    return body.size();
  };
  p.on_chunk_body(on_chunk);  // held by reference: outlives the parser's reads
  done = false;
  im.Io([&](auto& stream) {
    bh::async_read_header(stream, im.buf, p, [&](const error_code& e, std::size_t) {
      ec = e;
      done = true;
    });
  });
  late = im.Run(done, deadline, cancelled_);
  if (ec || late) {
    im.Close();
    return tl::unexpected(IoError("read head", ec, late && !cancelled_.load(), true));
  }
  const unsigned status = p.get().result_int();
  while (!p.is_done() && !stop) {
    done = false;
    im.Io([&](auto& stream) {
      bh::async_read_some(stream, im.buf, p, [&](const error_code& e, std::size_t) {
        ec = e;
        done = true;
      });
    });
    deadline = idle_timeout.count() > 0 ? Clock::now() + idle_timeout : Clock::time_point::max();
    late = im.Run(done, deadline, cancelled_);
    if (ec || late) {
      im.Close();
      return tl::unexpected(IoError("read body", ec, late && !cancelled_.load(), true));
    }
    if (!p.chunked() && !p.get().body().empty()) {
      if (!on_data(p.get().body())) stop = true;
      p.get().body().clear();
    }
  }
  im.Close();
  return status;
}

}  // namespace ficus::http
