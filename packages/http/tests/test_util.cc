#include "test_util.h"

#include <gtest/gtest.h>

namespace ficus::http::testing {

TestServer::TestServer(ServerOptions options, Handler handler) {
  server_ = std::make_unique<Server>(std::move(options), std::move(handler));
  auto port = server_->Start();
  EXPECT_TRUE(port.has_value()) << (port ? "" : port.error().ToString());
  port_ = port ? *port : 0;
}

TestServer::~TestServer() {
  server_->Drain(std::chrono::seconds(2));
}

Handler EchoHandler() {
  return [](Request& r) -> boost::asio::awaitable<Response> {
    co_return Response::Text(200, "echo:" + r.method + " " + r.target + " " + r.body);
  };
}

}  // namespace ficus::http::testing
