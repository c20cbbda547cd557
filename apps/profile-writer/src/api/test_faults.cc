#include "api/test_faults.h"

#include <boost/json.hpp>

namespace ficus::writer::api {
namespace {

namespace json = boost::json;
constexpr std::string_view kControl = "/__test/faults";

bool Api(const http::Request& r) {
  return r.Path().starts_with("/api/");
}

std::string Corrupt(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return body;
  auto* data = v.as_object().if_contains("data");
  if (!data || !data->is_object()) return body;
  auto* attrs = data->as_object().if_contains("attributes");
  if (!attrs || !attrs->is_object()) return body;
  for (auto& kv : attrs->as_object()) {
    if (kv.value().is_string()) {
      kv.value() = json::string(std::string(kv.value().as_string()) + "~fault");
      return json::serialize(v);
    }
  }
  attrs->as_object()["fault"] = "injected";
  return json::serialize(v);
}

}  // namespace

http::HeadCheck TestFaults::WrapHead(http::HeadCheck head) {
  return [head = std::move(head)](const http::Request& r) -> std::optional<http::Response> {
    if (r.Path() == kControl) return std::nullopt;
    return head ? head(r) : std::nullopt;
  };
}

http::Handler TestFaults::Wrap(http::Handler inner) {
  return
      [this, inner = std::move(inner)](http::Request& r) -> boost::asio::awaitable<http::Response> {
        if (r.Path() == kControl) {
          if (r.method != "POST") co_return http::Response::Error(405, "method: only POST");
          if (!r.remote.address().is_loopback()) {
            co_return http::Response::Error(403, "faults: loopback clients only");
          }
          boost::system::error_code ec;
          json::value v = json::parse(r.body, ec);
          if (ec || !v.is_object()) co_return http::Response::Error(400, "body: not a JSON object");
          const auto& o = v.as_object();
          int status = status_.load();
          bool corrupt = corrupt_.load();
          if (const auto* s = o.if_contains("status")) {
            if (!s->is_int64() ||
                (s->as_int64() != 0 && (s->as_int64() < 100 || s->as_int64() > 599))) {
              co_return http::Response::Error(400, "status: 0 or 100..599");
            }
            status = static_cast<int>(s->as_int64());
          }
          if (const auto* c = o.if_contains("corrupt")) {
            if (!c->is_bool()) co_return http::Response::Error(400, "corrupt: true or false");
            corrupt = c->as_bool();
          }
          status_ = status;
          corrupt_ = corrupt;
          co_return http::Response::Json(
              200, json::serialize(json::object{{"status", status}, {"corrupt", corrupt}}));
        }
        if (Api(r)) {
          if (const int status = status_.load(); status != 0) {
            co_return http::Response::Json(
                static_cast<unsigned>(status),
                json::serialize(json::object{
                    {"ret", status}, {"data", nullptr}, {"msg", "injected fault (test build)"}}));
          }
        }
        const bool corrupt = corrupt_.load() && Api(r);
        http::Response resp = co_await inner(r);
        if (corrupt && resp.status >= 200 && resp.status < 300 && !resp.stream) {
          resp.body = Corrupt(resp.body);
          resp.content_length.reset();
        }
        co_return resp;
      };
}

}  // namespace ficus::writer::api
