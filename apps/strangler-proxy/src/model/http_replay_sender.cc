#include "model/http_replay_sender.h"

#include <spdlog/spdlog.h>

#include "ficus/http/blocking_client.h"
#include "ficus/http/message.h"

namespace ficus::proxy {
namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto l = [] {
    auto existing = spdlog::get("replay");
    if (existing) return existing;
    auto lg = spdlog::default_logger()->clone("replay");
    spdlog::register_logger(lg);
    return lg;
  }();
  return l;
}

}  // namespace

HttpReplaySender::HttpReplaySender(Resolve resolve, uint32_t response_timeout_ms,
                                   Delivered delivered)
    : resolve_(std::move(resolve)),
      response_timeout_ms_(response_timeout_ms),
      delivered_(std::move(delivered)) {}

ReplayOutcome HttpReplaySender::OutcomeFor(int status) {
  if (status >= 200 && status < 300) return ReplayOutcome::kDelivered;
  if (status == 0 || status >= 500 || status == 408 || status == 409 || status == 429) {
    return ReplayOutcome::kRetry;
  }
  return ReplayOutcome::kRejected;
}

ReplayOutcome HttpReplaySender::Send(const ReplayRecord& r) {
  auto target = resolve_(r.backend);
  if (!target) return ReplayOutcome::kRetry;
  std::string head;
  head.reserve(256 + r.target.size());
  head.append(r.method).append(" ").append(r.target).append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : r.headers) {
    if (http::IEquals(name, "content-length") || http::IEquals(name, "transfer-encoding") ||
        http::IEquals(name, "connection") || http::IEquals(name, "x-ficus-mirror") ||
        http::IEquals(name, "x-ficus-replay")) {
      continue;
    }
    if (name.find_first_of("\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      continue;
    }
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\nX-Ficus-Replay: 1\r\n\r\n";

  const http::ClientResult result =
      http::BlockingExchange(*target, head, r.body, response_timeout_ms_);
  const int status = result.ok() ? static_cast<int>(result.response.result_int()) : 0;
  const ReplayOutcome outcome = OutcomeFor(status);
  if (outcome == ReplayOutcome::kDelivered && delivered_) delivered_(r);
  if (outcome == ReplayOutcome::kRejected) {
    Log()->warn("record {} ({} {} for route {}, user {}) refused by {} with {}: dropped", r.seq,
                r.method, r.target, r.route, r.user_key, r.backend, status);
  } else if (outcome == ReplayOutcome::kRetry && log_budget_.fetch_add(1) % 100 == 0) {
    Log()->info("record {} to {} not accepted ({}): retrying with backoff", r.seq, r.backend,
                status ? std::to_string(status) : result.detail);
  }
  return outcome;
}

}  // namespace ficus::proxy
