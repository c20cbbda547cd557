#include "ficus/http/blocking_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "wire.h"

namespace ficus::http {

namespace asio = boost::asio;

struct BlockingClient::Loop {
  asio::io_context ioc{1};
  Client client{ioc.get_executor()};

  ClientResult Run(const ClientTarget& target, std::string_view head, std::string_view body,
                   uint32_t response_timeout_ms, uint64_t max_response_bytes) {
    ClientResult result;
    bool done = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          result = co_await client.Exchange(target, head, body, false, max_response_bytes,
                                            response_timeout_ms);
          done = true;
        },
        asio::detached);
    // Until this exchange ends, not until the loop is idle: the Client's
    // timeout watchdog ticks on for up to one tick after it (client.h).
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
    return result;
  }
};

namespace {
thread_local std::unique_ptr<BlockingClient::Loop> tl_loop;
}  // namespace

ClientResult BlockingExchange(const ClientTarget& target, std::string_view head,
                              std::string_view body, uint32_t response_timeout_ms,
                              uint64_t max_response_bytes) {
  if (!tl_loop) tl_loop = std::make_unique<BlockingClient::Loop>();
  return tl_loop->Run(target, head, body, response_timeout_ms, max_response_bytes);
}

BlockingClient::BlockingClient(ClientTarget target, uint64_t max_response_bytes)
    : target_(std::move(target)),
      max_response_bytes_(max_response_bytes),
      loop_(std::make_unique<Loop>()) {}

BlockingClient::~BlockingClient() = default;

ClientResult BlockingClient::Exchange(std::string_view head, std::string_view body) {
  return loop_->Run(target_, head, body, 0, max_response_bytes_);
}

Result<Response> BlockingClient::Send(const Request& req) {
  std::string head;
  head.reserve(256);
  wire::AppendRequestHead(head, req, target_.host);
  ClientResult r = Exchange(head, req.body);
  if (!r.ok()) {
    std::string msg = "http " + target_.host + ": " + ClientErrorName(r.error) + ": " + r.detail;
    if (!r.request_sent) msg += " (not sent)";
    return MakeError(
        r.error == ClientErrorKind::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable, msg);
  }
  Response out;
  out.status = r.response.status;
  out.reason = std::move(r.response.reason);
  out.headers = std::move(r.response.headers);
  out.body = std::move(r.response.body_);
  return out;
}

void BlockingClient::CloseIdle() {
  loop_->client.CloseIdle();
}

}  // namespace ficus::http
