#include "service/blocking_exchange.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>

namespace ficus::proxy {
namespace {

namespace asio = boost::asio;

struct ThreadClient {
  asio::io_context ioc{1};
  UpstreamPool pool{ioc.get_executor()};
};
thread_local std::unique_ptr<ThreadClient> tl_client;

}  // namespace

UpstreamResult BlockingExchange(const UpstreamTarget& target, std::string_view head,
                                std::string_view body, uint32_t response_timeout_ms,
                                uint64_t max_response_bytes) {
  if (!tl_client) tl_client = std::make_unique<ThreadClient>();
  auto& c = *tl_client;
  UpstreamResult result;
  asio::co_spawn(
      c.ioc,
      [&]() -> asio::awaitable<void> {
        result = co_await c.pool.Exchange(target, head, body, false, max_response_bytes,
                                          response_timeout_ms);
      },
      asio::detached);
  c.ioc.restart();
  c.ioc.run();
  return result;
}

}  // namespace ficus::proxy
