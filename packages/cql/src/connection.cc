#include "ficus/cql/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cassert>
#include <charconv>
#include <cstring>

namespace ficus::cql {

namespace asio = boost::asio;
using asio::use_awaitable;
using boost::system::error_code;

struct Connection::Pending {
  explicit Pending(const Executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Result<ResponseFrame>> result;
  bool abandoned = false;
};

namespace {

std::optional<unsigned> FirstNumber(const StringMultimap& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || it->second.empty()) return std::nullopt;
  const std::string& s = it->second.front();
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string EndpointText(const asio::ip::tcp::endpoint& ep) {
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace

std::optional<ScyllaSharding> ParseScyllaSharding(const StringMultimap& supported) {
  auto nr = FirstNumber(supported, "SCYLLA_NR_SHARDS");
  auto shard = FirstNumber(supported, "SCYLLA_SHARD");
  auto algo = supported.find("SCYLLA_SHARDING_ALGORITHM");
  if (!nr || !shard || *nr == 0 || *shard >= *nr || algo == supported.end() ||
      algo->second.empty() || algo->second.front() != "biased-token-round-robin") {
    return std::nullopt;
  }
  ScyllaSharding s;
  s.nr_shards = *nr;
  s.shard = *shard;
  s.ignore_msb = FirstNumber(supported, "SCYLLA_SHARDING_IGNORE_MSB").value_or(0);
  if (s.ignore_msb >= 64) return std::nullopt;
  auto port = FirstNumber(supported, "SCYLLA_SHARD_AWARE_PORT");
  if (port && *port > 0 && *port <= 65535) s.shard_aware_port = static_cast<std::uint16_t>(*port);
  return s;
}

Connection::Connection(Executor ex, Endpoint peer, ConnectionOptions options)
    : ex_(std::move(ex)), peer_(std::move(peer)), options_(std::move(options)), socket_(ex_) {
  options_.max_streams = std::clamp(options_.max_streams, 1, 32768);
  slots_.resize(static_cast<std::size_t>(options_.max_streams));
  free_ids_.reserve(slots_.size());
  // Pop from the back: low ids first.
  for (int i = options_.max_streams - 1; i >= 0; --i)
    free_ids_.push_back(static_cast<std::int16_t>(i));
}

Connection::~Connection() {
  on_close_ = nullptr;
  error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<Result<std::shared_ptr<Connection>>> Connection::Open(Executor ex, Endpoint peer,
                                                                      ConnectionOptions options) {
  std::shared_ptr<Connection> c(new Connection(ex, peer, std::move(options)));
  error_code ec;
  c->socket_.open(peer.protocol(), ec);
  if (!ec && c->options_.local_port) {
    c->socket_.bind(Endpoint(peer.protocol(), *c->options_.local_port), ec);
    if (ec) {
      co_return MakeError(
          ErrorCode::kUnavailable,
          fmt::format("cql: cannot bind local port {}: {}", *c->options_.local_port, ec.message()));
    }
  }
  if (ec)
    co_return MakeError(ErrorCode::kUnavailable, fmt::format("cql: socket: {}", ec.message()));

  // Connect with a deadline: the timer closes the socket, which aborts the connect.
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex);
  deadline.expires_after(c->options_.connect_timeout);
  deadline.async_wait([timed_out, weak = std::weak_ptr<Connection>(c)](error_code tec) {
    if (tec) return;
    *timed_out = true;
    if (auto self = weak.lock()) {
      error_code ignored;
      self->socket_.close(ignored);
    }
  });
  co_await c->socket_.async_connect(peer, asio::redirect_error(use_awaitable, ec));
  deadline.cancel();
  if (*timed_out) {
    co_return MakeError(ErrorCode::kTimeout,
                        fmt::format("cql: connect to {} timed out after {} ms", EndpointText(peer),
                                    c->options_.connect_timeout.count()));
  }
  if (ec) {
    co_return MakeError(ErrorCode::kUnavailable,
                        fmt::format("cql: connect to {}: {}", EndpointText(peer), ec.message()));
  }
  c->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  c->local_port_ = c->socket_.local_endpoint(ec).port();
  c->open_ = true;
  asio::co_spawn(
      ex, [c]() -> asio::awaitable<void> { co_await c->ReadLoop(); }, asio::detached);

  Status hs = co_await c->Handshake();
  if (!hs) {
    c->Close("handshake failed");
    co_return tl::unexpected(hs.error());
  }
  co_return c;
}

asio::awaitable<Status> Connection::Handshake() {
  auto timeout = options_.handshake_timeout;
  // GCC 12 destroys temporaries inside a co_await expression twice: every
  // request is a named local moved into Send.
  Request options_req = OptionsRequest{};
  auto supported = co_await Send(std::move(options_req), timeout);
  if (!supported) co_return tl::unexpected(supported.error());
  if (auto* s = std::get_if<SupportedResponse>(&supported->body)) {
    supported_ = s->options;
    sharding_ = ParseScyllaSharding(supported_);
  } else if (auto* e = std::get_if<ErrorResponse>(&supported->body)) {
    co_return tl::unexpected(ToError(*e));
  } else {
    co_return MakeError(ErrorCode::kInternal, "cql: OPTIONS was not answered with SUPPORTED");
  }

  StartupRequest startup;
  startup.options["DRIVER_NAME"] = "ficus-cql";
  Request startup_req = std::move(startup);
  auto started = co_await Send(std::move(startup_req), timeout);
  if (!started) co_return tl::unexpected(started.error());
  if (std::holds_alternative<ReadyResponse>(started->body)) co_return Status{};
  if (auto* e = std::get_if<ErrorResponse>(&started->body)) co_return tl::unexpected(ToError(*e));
  auto* auth = std::get_if<AuthenticateResponse>(&started->body);
  if (auth == nullptr)
    co_return MakeError(ErrorCode::kInternal, "cql: unexpected answer to STARTUP");
  if (options_.username.empty()) {
    co_return MakeError(
        ErrorCode::kPreconditionFailed,
        fmt::format("cql: {} requires authentication ({}) but no credentials are configured",
                    EndpointText(peer_), auth->authenticator));
  }
  Request auth_req = AuthResponseRequest{PlainAuthToken(options_.username, options_.password)};
  auto answer = co_await Send(std::move(auth_req), timeout);
  if (!answer) co_return tl::unexpected(answer.error());
  if (std::holds_alternative<AuthSuccessResponse>(answer->body)) co_return Status{};
  if (auto* e = std::get_if<ErrorResponse>(&answer->body)) co_return tl::unexpected(ToError(*e));
  // PasswordAuthenticator never challenges; anything else is unsupported.
  co_return MakeError(
      ErrorCode::kUnsupported,
      fmt::format("cql: authenticator {} sent a challenge; only SASL PLAIN is supported",
                  auth->authenticator));
}

asio::awaitable<Result<ResponseFrame>> Connection::Send(Request request,
                                                        std::chrono::milliseconds timeout) {
  if (!open_) {
    co_return MakeError(ErrorCode::kUnavailable,
                        fmt::format("cql: connection to {} is closed", EndpointText(peer_)));
  }
  if (free_ids_.empty()) {
    co_return MakeError(
        ErrorCode::kUnavailable,
        fmt::format("cql: no free stream id on {} ({} in flight, {} orphaned by timeouts)",
                    EndpointText(peer_), in_flight_, orphaned_));
  }
  std::int16_t id = free_ids_.back();
  free_ids_.pop_back();
  auto pending = std::make_shared<Pending>(ex_);
  slots_[static_cast<std::size_t>(id)] = pending;
  ++in_flight_;

  Bytes frame = EncodeRequest(request, id);
  write_buffer_.insert(write_buffer_.end(), frame.begin(), frame.end());
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(
        ex_, [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->WriteLoop(); },
        asio::detached);
  }

  pending->timer.expires_after(timeout);
  error_code ec;
  co_await pending->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  if (pending->result) co_return std::move(*pending->result);  // the reader freed the id
  // Timed out: keep the id reserved until its late answer or the close.
  pending->abandoned = true;
  --in_flight_;
  ++orphaned_;
  co_return MakeError(
      ErrorCode::kTimeout,
      fmt::format("cql: {} on stream {} to {} timed out after {} ms",
                  OpcodeName(RequestOpcode(request)), id, EndpointText(peer_), timeout.count()));
}

asio::awaitable<void> Connection::WriteLoop() {
  std::vector<std::uint8_t> out;
  while (open_ && !write_buffer_.empty()) {
    out.clear();
    out.swap(write_buffer_);  // coalesce everything queued so far into one write
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      Fail(fmt::format("write to {} failed: {}", EndpointText(peer_), ec.message()));
      break;
    }
  }
  writing_ = false;
}

asio::awaitable<void> Connection::ReadLoop() {
  auto self = shared_from_this();
  std::vector<std::uint8_t> buf(std::size_t{64} * 1024);
  std::size_t begin = 0;
  std::size_t end = 0;
  while (open_) {
    // Deliver every complete frame in the buffer.
    while (end - begin >= kHeaderSize) {
      auto header = DecodeHeader(ByteView(buf.data() + begin, kHeaderSize), kResponseVersion,
                                 options_.max_frame_body);
      if (!header) {
        Fail(fmt::format("bad frame from {}: {}", EndpointText(peer_), header.error().message));
        co_return;
      }
      std::size_t total = kHeaderSize + header->length;
      if (end - begin < total) {
        if (buf.size() - begin < total) {  // make room for the whole frame
          std::memmove(buf.data(), buf.data() + begin, end - begin);
          end -= begin;
          begin = 0;
          if (buf.size() < total) buf.resize(total);
        }
        break;
      }
      auto frame =
          DecodeResponse(*header, ByteView(buf.data() + begin + kHeaderSize, header->length));
      begin += total;
      if (header->stream < 0) continue;  // server events: not registered for, ignored
      Deliver(header->stream, std::move(frame));
    }
    if (begin == end) {
      begin = end = 0;
    } else if (buf.size() - end < 4096) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    error_code ec;
    std::size_t n = co_await socket_.async_read_some(
        asio::buffer(buf.data() + end, buf.size() - end), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      Fail(ec == asio::error::eof
               ? fmt::format("{} closed the connection", EndpointText(peer_))
               : fmt::format("read from {} failed: {}", EndpointText(peer_), ec.message()));
      co_return;
    }
    end += n;
  }
}

void Connection::Deliver(std::int16_t stream, Result<ResponseFrame> frame) {
  auto idx = static_cast<std::size_t>(stream);
  if (idx >= slots_.size() || !slots_[idx]) return;  // answer to nothing we sent: ignore
  auto pending = std::move(slots_[idx]);
  slots_[idx] = nullptr;
  free_ids_.push_back(stream);
  if (pending->abandoned) {
    --orphaned_;  // the late answer of a timed-out request: dropped, id now reusable
    return;
  }
  --in_flight_;
  if (!frame) {
    // Framing is intact (the length was valid), only this body is bad.
    pending->result = MakeError(ErrorCode::kInternal, frame.error().message);
  } else {
    pending->result = std::move(frame);
  }
  pending->timer.cancel();
}

void Connection::Fail(std::string reason) {
  if (!open_) return;
  open_ = false;
  error_code ignored;
  socket_.close(ignored);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto pending = std::move(slots_[i]);
    slots_[i] = nullptr;
    if (!pending || pending->abandoned) continue;
    pending->result = MakeError(ErrorCode::kUnavailable, fmt::format("cql: {}", reason));
    pending->timer.cancel();
  }
  in_flight_ = 0;
  orphaned_ = 0;
  free_ids_.clear();
  for (int i = options_.max_streams - 1; i >= 0; --i)
    free_ids_.push_back(static_cast<std::int16_t>(i));
  if (auto cb = std::move(on_close_)) cb(reason);
}

void Connection::Close(std::string_view reason) {
  Fail(std::string(reason));
}

}  // namespace ficus::cql
