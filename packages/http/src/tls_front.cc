#include "ficus/http/tls_front.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <set>

namespace ficus::http {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// One relayed connection: the client's TLS stream and the plain socket to
// the Server. Either pump ending closes both.
struct Relay : std::enable_shared_from_this<Relay> {
  Relay(tcp::socket client, ssl::context& ctx)
      : tls(std::move(client), ctx), backend(tls.get_executor()) {}
  ssl::stream<tcp::socket> tls;
  tcp::socket backend;
  bool closed = false;

  void Close() {
    if (closed) return;
    closed = true;
    error_code ec;
    tls.lowest_layer().close(ec);
    backend.close(ec);
  }
};

asio::awaitable<void> PumpToBackend(std::shared_ptr<Relay> r) {
  std::array<char, std::size_t{16} * 1024> buf;
  error_code ec;
  for (;;) {
    const std::size_t n = co_await r->tls.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(r->backend, asio::buffer(buf.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  // The client is done sending: let the Server see the end of its input.
  error_code ignored;
  if (!r->closed) r->backend.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> PumpToClient(std::shared_ptr<Relay> r) {
  std::array<char, std::size_t{16} * 1024> buf;
  error_code ec;
  for (;;) {
    const std::size_t n = co_await r->backend.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(r->tls, asio::buffer(buf.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  // The Server closed (or the client went away): everything it wrote has
  // been written to the client (each write is awaited). No close_notify:
  // its answers are length-delimited, and a shutdown racing the pending
  // read of the other pump is not worth it.
  r->Close();
}

}  // namespace

struct TlsFront::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::atomic<std::size_t> active{0};
  std::set<std::weak_ptr<Relay>, std::owner_less<std::weak_ptr<Relay>>> relays;  // loop thread

  asio::awaitable<void> Session(tcp::socket client, const TlsFrontOptions* o,
                                std::atomic<std::uint64_t>* failures) {
    auto r = std::make_shared<Relay>(std::move(client), *o->tls);
    relays.insert(r);
    struct Count {
      Impl* im;
      std::weak_ptr<Relay> w;
      ~Count() {
        im->active--;
        im->relays.erase(w);
      }
    } count{this, r};
    error_code ec;
    {
      asio::steady_timer t(io);
      t.expires_after(o->handshake_timeout);
      t.async_wait([r](const error_code& e) {
        if (!e) r->Close();
      });
      co_await r->tls.async_handshake(ssl::stream_base::server,
                                      asio::redirect_error(asio::use_awaitable, ec));
      t.cancel();
    }
    if (ec || r->closed) {
      failures->fetch_add(1);
      r->Close();
      co_return;
    }
    const tcp::endpoint backend(asio::ip::address_v4::loopback(), o->backend_port);
    co_await r->backend.async_connect(backend, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      r->Close();
      co_return;
    }
    error_code ignored;
    r->backend.set_option(tcp::no_delay(true), ignored);
    r->tls.lowest_layer().set_option(tcp::no_delay(true), ignored);
    auto to_backend = PumpToBackend(r);
    asio::co_spawn(io, std::move(to_backend), asio::detached);
    co_await PumpToClient(r);
  }

  asio::awaitable<void> Accept(const TlsFrontOptions* o, std::atomic<std::uint64_t>* failures) {
    for (;;) {
      error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      if (active.load() >= o->max_connections) {
        s.close(ec);
        continue;
      }
      active++;
      auto session = Session(std::move(s), o, failures);
      asio::co_spawn(io, std::move(session), asio::detached);
    }
  }
};

TlsFront::TlsFront(TlsFrontOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

TlsFront::~TlsFront() {
  Stop();
}

Result<std::uint16_t> TlsFront::Start() {
  if (!options_.tls) return MakeError(ErrorCode::kInvalidArgument, "tls: no TLS context");
  error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "address: not an IP address: '" + options_.address + "'");
  }
  auto& a = impl_->acceptor;
  const tcp::endpoint ep(addr, options_.port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(
        ErrorCode::kUnavailable,
        "listen " + options_.address + ":" + std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = a.local_endpoint().port();
  auto accept = impl_->Accept(&options_, &handshake_failures_);
  asio::co_spawn(impl_->io, std::move(accept), asio::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
  return port_;
}

void TlsFront::Stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->io, [im = impl_.get()] {
    error_code ec;
    im->acceptor.close(ec);
    for (const auto& w : im->relays) {
      if (auto r = w.lock()) r->Close();
    }
  });
  // Relays end once their sockets are closed; then the loop runs out.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!impl_->io.stopped() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->io.stop();
  thread_.join();
}

}  // namespace ficus::http
