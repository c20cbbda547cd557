#include "model/http_modern_store.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>

#include "ficus/http/bearer_auth.h"
#include "ficus/http/blocking_client.h"
#include "service/datetime.h"

namespace ficus::migrator {
namespace {

namespace fhttp = ficus::http;
namespace json = boost::json;

struct Response {
  unsigned status = 0;
  std::string body;
  int retry_after_s = 0;
};

class HttpModernStore final : public ModernStore {
 public:
  HttpModernStore(HttpStoreOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  std::string Describe() const override { return options_.url.ToString(); }

  Result<ModernProfile> Get(const std::string& user_id) override {
    auto r = Send("GET", options_.api_prefix + "/get?user_id=" + user_id, "", 0);
    if (!r) return tl::unexpected(r.error());
    if (r->status == 404) {
      return MakeError(ErrorCode::kNotFound, "writer: no profile for user " + user_id);
    }
    if (r->status != 200) return Rejected(*r, "GET profile " + user_id);
    return ParseProfile(r->body, user_id);
  }

  Result<bool> HasBulk() override {
    if (options_.bulk_token.empty()) return false;
    if (bulk_) return *bulk_;
    // An empty id list: 400 "body: no user ids" proves the endpoint and the
    // token; an older writer answers 404 "path: no such endpoint".
    auto r = Send("POST", options_.bulk_prefix + "/get", "", 0, "text/plain", true);
    if (!r) return tl::unexpected(r.error());
    if (r->status == 404) {
      bulk_ = false;
    } else if (r->status == 400) {
      bulk_ = true;
    } else if (r->status == 401 || r->status == 403) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "writer " + Describe() + ": bulk endpoints refused the token from " +
                           options_.bulk_token_origin + ": HTTP " + std::to_string(r->status) +
                           ": " + Msg(r->body));
    } else {
      return Rejected(*r, "bulk probe");
    }
    return *bulk_;
  }

  Result<std::vector<Status>> ApplyBatch(const std::vector<ProfileUpdate>& updates,
                                         bool atomic_user) override {
    std::string body;
    body.reserve(updates.size() * 160);
    for (const auto& u : updates) {
      json::object attrs;
      for (const auto& [k, v] : u.attributes) {
        attrs[k] = v ? json::value(*v) : json::value(nullptr);
      }
      body += json::serialize(
          json::object{{"user_id", u.user_id}, {"ts", u.ts_us}, {"attributes", std::move(attrs)}});
      body.push_back('\n');
    }
    auto r = Send("POST", options_.bulk_prefix + "/import" + (atomic_user ? "?atomic=user" : ""),
                  body, 0, "application/x-ndjson", true);
    if (!r) return tl::unexpected(r.error());
    if (r->status != 200) {
      return Rejected(*r, "import of " + std::to_string(updates.size()) + " updates");
    }
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    const json::value* results = nullptr;
    if (!ec && v.is_object()) {
      if (const auto* d = v.as_object().if_contains("data"); d && d->is_object()) {
        results = d->as_object().if_contains("results");
      }
    }
    if (!results || !results->is_array() || results->as_array().size() != updates.size()) {
      return MakeError(ErrorCode::kInternal,
                       "writer " + Describe() + ": import answer has no result per record");
    }
    std::vector<Status> out;
    out.reserve(updates.size());
    for (const auto& e : results->as_array()) {
      const auto* obj = e.if_object();
      const auto* ret = obj ? obj->if_contains("ret") : nullptr;
      if (!ret || !ret->is_int64()) {
        out.emplace_back(MakeError(ErrorCode::kInternal, "writer: bad import result"));
        continue;
      }
      const std::int64_t status = ret->as_int64();
      if (status == 200) {
        out.emplace_back();
        continue;
      }
      std::string msg = "writer " + Describe() + ": HTTP " + std::to_string(status);
      if (const auto* m = obj->if_contains("msg"); m && m->is_string()) {
        msg += ": " + std::string(m->as_string());
      }
      out.emplace_back(MakeError(
          status >= 400 && status < 500 ? ErrorCode::kInvalidArgument : ErrorCode::kInternal, msg));
    }
    return out;
  }

  Result<std::vector<Result<ModernProfile>>> GetMany(
      const std::vector<std::string>& user_ids) override {
    std::string body;
    body.reserve(user_ids.size() * 37);
    for (const auto& id : user_ids) {
      body += id;
      body.push_back('\n');
    }
    auto r = Send("POST", options_.bulk_prefix + "/get", body, 0, "text/plain", true);
    if (!r) return tl::unexpected(r.error());
    if (r->status != 200) {
      return Rejected(*r, "bulk read of " + std::to_string(user_ids.size()) + " users");
    }
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    const json::value* profiles = nullptr;
    if (!ec && v.is_object()) {
      if (const auto* d = v.as_object().if_contains("data"); d && d->is_object()) {
        profiles = d->as_object().if_contains("profiles");
      }
    }
    if (!profiles || !profiles->is_array() || profiles->as_array().size() != user_ids.size()) {
      return MakeError(ErrorCode::kInternal,
                       "writer " + Describe() + ": bulk read answer has no entry per user");
    }
    std::vector<Result<ModernProfile>> out;
    out.reserve(user_ids.size());
    const auto& arr = profiles->as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const auto* obj = arr[i].if_object();
      const auto* ret = obj ? obj->if_contains("ret") : nullptr;
      if (!ret || !ret->is_int64()) {
        out.emplace_back(MakeError(ErrorCode::kInternal, "writer: bad bulk read entry"));
      } else if (ret->as_int64() == 200) {
        out.push_back(ParseProfileData(*obj, user_ids[i]));
      } else if (ret->as_int64() == 404) {
        out.emplace_back(
            MakeError(ErrorCode::kNotFound, "writer: no profile for user " + user_ids[i]));
      } else {
        std::string msg = "writer " + Describe() + ": user " + user_ids[i] + ": HTTP " +
                          std::to_string(ret->as_int64());
        if (const auto* m = obj->if_contains("msg"); m && m->is_string()) {
          msg += ": " + std::string(m->as_string());
        }
        out.emplace_back(MakeError(ErrorCode::kInvalidArgument, msg));
      }
    }
    return out;
  }

  Status Apply(const ProfileUpdate& u) override {
    json::object attrs;
    for (const auto& [k, v] : u.attributes) {
      attrs[k] = v ? json::value(*v) : json::value(nullptr);
    }
    const std::string body =
        json::serialize(json::object{{"user_id", u.user_id}, {"attributes", std::move(attrs)}});
    auto r = Send("POST", options_.api_prefix + "/update", body, u.ts_us);
    if (!r) return tl::unexpected(r.error());
    if (r->status != 200) return Rejected(*r, "update of user " + u.user_id);
    return {};
  }

 private:
  static std::string Msg(const std::string& body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object() && v.as_object().contains("msg") &&
        v.as_object().at("msg").is_string()) {
      return std::string(v.as_object().at("msg").as_string());
    }
    return "";
  }

  tl::unexpected<Error> Rejected(const Response& r, const std::string& what) {
    std::string msg = "writer " + Describe() + ": " + what + ": HTTP " + std::to_string(r.status);
    if (std::string m = Msg(r.body); !m.empty()) msg += ": " + m;
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
    return ParseProfileData(data->as_object(), user_id);
  }

  // The GET answer's `data` object (also a bulk read entry).
  Result<ModernProfile> ParseProfileData(const json::object& d, const std::string& user_id) {
    auto bad = [&](const std::string& why) {
      return MakeError(ErrorCode::kInternal,
                       "writer " + Describe() + ": profile of " + user_id + ": " + why);
    };
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
  Result<Response> Send(std::string_view method, const std::string& target, const std::string& body,
                        std::int64_t ts_us, std::string_view content_type = "application/json",
                        bool bulk = false) {
    const MonoTime deadline = clock_.Mono() + std::chrono::milliseconds{options_.retry_deadline_ms};
    std::int64_t backoff_us = 20'000;
    std::string last_error;
    for (int attempt = 0;; ++attempt) {
      auto r = SendOnce(method, target, body, ts_us, content_type, bulk);
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
      if (clock_.Mono() + Micros{wait_us} > deadline) {
        return MakeError(ErrorCode::kUnavailable, "writer " + Describe() + ": " + last_error +
                                                      " (gave up after " +
                                                      std::to_string(attempt + 1) + " attempts)");
      }
      clock_.Sleep(Micros{wait_us});
      backoff_us = std::min<std::int64_t>(backoff_us * 2, 1'000'000);
    }
  }

  tl::expected<Response, std::string> SendOnce(std::string_view method, const std::string& target,
                                               const std::string& body, std::int64_t ts_us,
                                               std::string_view content_type, bool bulk) {
    if (!client_) {
      auto t = fhttp::MakeClientTarget("writer", options_.url.host,
                                       static_cast<std::uint16_t>(options_.url.port));
      if (!t) return tl::unexpected("resolve " + options_.url.host + ": " + t.error().message);
      t->connect_timeout_ms = static_cast<std::uint32_t>(options_.request_timeout_ms);
      t->response_timeout_ms = static_cast<std::uint32_t>(options_.request_timeout_ms);
      client_ = std::make_unique<fhttp::BlockingClient>(std::move(*t));
    }
    fhttp::Request req;
    req.method = std::string(method);
    req.target = options_.url.prefix + target;
    req.headers.Add("User-Agent", "ficus-profile-migrator");
    if (bulk) req.headers.Add("Authorization", "Bearer " + options_.bulk_token);
    if (method == "POST") {
      req.headers.Add("Content-Type", content_type);
      if (ts_us > 0) req.headers.Add("X-Ficus-Timestamp", std::to_string(ts_us));
      req.body = body;
    }
    auto res = client_->Send(req);
    if (!res) return tl::unexpected(res.error().message);
    Response out;
    out.status = res->status;
    out.body = std::move(res->body);
    if (auto ra = res->Header("retry-after"))
      out.retry_after_s = std::atoi(std::string(*ra).c_str());
    return out;
  }

  HttpStoreOptions options_;
  Clock& clock_;
  std::unique_ptr<fhttp::BlockingClient> client_;  // made at the first request
  std::optional<bool> bulk_;                       // HasBulk()'s answer, once asked
};

}  // namespace

Result<std::string> FirstTokenSecret(std::string_view text, const std::string& origin) {
  auto tokens = ficus::http::ParseTokenFile(text);
  if (tokens.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, origin + ": no token in the file");
  }
  return tokens.front().secret;
}

std::unique_ptr<ModernStore> MakeHttpModernStore(const HttpStoreOptions& options, Clock& clock) {
  return std::make_unique<HttpModernStore>(options, clock);
}

}  // namespace ficus::migrator
