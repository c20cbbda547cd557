#include "model/http_modern_store.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>

#include "service/datetime.h"

namespace ficus::migrator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

struct Response {
  unsigned status = 0;
  std::string body;
  int retry_after_s = 0;
};

class HttpModernStore final : public ModernStore {
 public:
  HttpModernStore(HttpStoreOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock), stream_(ioc_) {}

  std::string Describe() const override { return options_.url.ToString(); }

  Result<ModernProfile> Get(const std::string& user_id) override {
    auto r = Send(http::verb::get, options_.api_prefix + "/get?user_id=" + user_id, "", 0);
    if (!r) return tl::unexpected(r.error());
    if (r->status == 404) {
      return MakeError(ErrorCode::kNotFound, "writer: no profile for user " + user_id);
    }
    if (r->status != 200) return Rejected(*r, "GET profile " + user_id);
    return ParseProfile(r->body, user_id);
  }

  Status Apply(const ProfileUpdate& u) override {
    json::object attrs;
    for (const auto& [k, v] : u.attributes) {
      attrs[k] = v ? json::value(*v) : json::value(nullptr);
    }
    const std::string body =
        json::serialize(json::object{{"user_id", u.user_id}, {"attributes", std::move(attrs)}});
    auto r = Send(http::verb::post, options_.api_prefix + "/update", body, u.ts_us);
    if (!r) return tl::unexpected(r.error());
    if (r->status != 200) return Rejected(*r, "update of user " + u.user_id);
    return {};
  }

 private:
  tl::unexpected<Error> Rejected(const Response& r, const std::string& what) {
    std::string msg = "writer " + Describe() + ": " + what + ": HTTP " + std::to_string(r.status);
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (!ec && v.is_object() && v.as_object().contains("msg") &&
        v.as_object().at("msg").is_string()) {
      msg += ": " + std::string(v.as_object().at("msg").as_string());
    }
    return MakeError(
        r.status >= 400 && r.status < 500 ? ErrorCode::kInvalidArgument : ErrorCode::kInternal,
        msg);
  }

  Result<ModernProfile> ParseProfile(const std::string& body, const std::string& user_id) {
    auto bad = [&](const std::string& why) {
      return MakeError(ErrorCode::kInternal,
                       "writer " + Describe() + ": profile of " + user_id + ": " + why);
    };
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return bad("answer is not a JSON object");
    const auto* data = v.as_object().if_contains("data");
    if (!data || !data->is_object()) return bad("data: missing");
    const auto& d = data->as_object();
    ModernProfile p;
    p.user_id = user_id;
    const auto* ua = d.if_contains("updated_at");
    if (!ua || !ua->is_string()) return bad("data.updated_at: missing");
    auto ts = ParseIsoUtcUs(ua->as_string());
    if (!ts) return bad(ts.error().message);
    p.updated_us = *ts;
    const auto* attrs = d.if_contains("attributes");
    if (!attrs || !attrs->is_object()) return bad("data.attributes: not an object");
    for (const auto& [k, val] : attrs->as_object()) {
      if (!val.is_string()) return bad("data.attributes." + std::string(k) + ": not a string");
      p.attributes.emplace(std::string(k), std::string(val.as_string()));
    }
    return p;
  }

  // One request with retries on transient failures.
  Result<Response> Send(http::verb verb, const std::string& target, const std::string& body,
                        std::int64_t ts_us) {
    const std::int64_t deadline = clock_.NowUs() + std::int64_t{options_.retry_deadline_ms} * 1000;
    std::int64_t backoff_us = 20'000;
    std::string last_error;
    for (int attempt = 0;; ++attempt) {
      auto r = SendOnce(verb, target, body, ts_us);
      std::int64_t wait_us = backoff_us;
      if (r && r->status != 503 && r->status != 500 && r->status != 502 && r->status != 504) {
        return std::move(*r);
      }
      if (r) {
        last_error = "HTTP " + std::to_string(r->status);
        if (r->retry_after_s > 0) wait_us = std::int64_t{r->retry_after_s} * 1'000'000;
        if (r->status == 500 && attempt >= 2)
          return std::move(*r);  // storage failure: do not hammer
      } else {
        last_error = r.error();
      }
      if (clock_.NowUs() + wait_us > deadline) {
        return MakeError(ErrorCode::kUnavailable, "writer " + Describe() + ": " + last_error +
                                                      " (gave up after " +
                                                      std::to_string(attempt + 1) + " attempts)");
      }
      clock_.SleepUs(wait_us);
      backoff_us = std::min<std::int64_t>(backoff_us * 2, 1'000'000);
    }
  }

  // Runs the io_context until the pending operation completes or times out.
  bool RunFor(bool& done) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(options_.request_timeout_ms));
    if (!done) {
      stream_.close();
      ioc_.restart();
      ioc_.run();  // let the cancelled handlers finish
      return false;
    }
    return true;
  }

  tl::expected<Response, std::string> SendOnce(http::verb verb, const std::string& target,
                                               const std::string& body, std::int64_t ts_us) {
    if (!connected_) {
      if (auto c = Connect(); !c) return tl::unexpected(c.error());
    }
    http::request<http::string_body> req{verb, options_.url.prefix + target, 11};
    req.set(http::field::host, options_.url.host + ":" + std::to_string(options_.url.port));
    req.set(http::field::user_agent, "ficus-profile-migrator");
    req.keep_alive(true);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      if (ts_us > 0) req.set("X-Ficus-Timestamp", std::to_string(ts_us));
      req.body() = body;
    }
    req.prepare_payload();
    boost::system::error_code ec;
    bool done = false;
    http::response<http::string_body> res;
    http::async_write(stream_, req, [&](boost::system::error_code e, std::size_t) {
      if (e) {
        ec = e;
        done = true;
        return;
      }
      http::async_read(stream_, buffer_, res, [&](boost::system::error_code e2, std::size_t) {
        ec = e2;
        done = true;
      });
    });
    if (!RunFor(done)) {
      connected_ = false;
      return tl::unexpected("request timed out after " +
                            std::to_string(options_.request_timeout_ms) + " ms");
    }
    if (ec) {
      connected_ = false;
      stream_.close();
      return tl::unexpected(ec.message());
    }
    Response out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      out.retry_after_s = std::atoi(std::string(it->value()).c_str());
    }
    if (!res.keep_alive()) {
      connected_ = false;
      stream_.close();
    }
    return out;
  }

  tl::expected<void, std::string> Connect() {
    buffer_.clear();
    stream_.close();
    asio::ip::tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(options_.url.host, std::to_string(options_.url.port), ec);
    if (ec) return tl::unexpected("resolve " + options_.url.host + ": " + ec.message());
    bool done = false;
    stream_.async_connect(endpoints,
                          [&](boost::system::error_code e, const asio::ip::tcp::endpoint&) {
                            ec = e;
                            done = true;
                          });
    if (!RunFor(done)) return tl::unexpected(std::string("connect timed out"));
    if (ec) return tl::unexpected("connect: " + ec.message());
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    connected_ = true;
    return {};
  }

  HttpStoreOptions options_;
  Clock& clock_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace

std::unique_ptr<ModernStore> MakeHttpModernStore(const HttpStoreOptions& options, Clock& clock) {
  return std::make_unique<HttpModernStore>(options, clock);
}

}  // namespace ficus::migrator
