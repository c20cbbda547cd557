#include "api/follower_watch.h"

#include "ficus/clock.h"

namespace ficus::proxy {

FollowerWatch::FollowerWatch(std::function<std::shared_ptr<const Config>()> configured)
    : configured_(std::move(configured)),
      scraper_(
          [this]() -> std::optional<ScrapeTarget> {
            const auto c = configured_();
            if (c->cdc.metrics_url.empty()) return std::nullopt;
            return ScrapeTarget{c->cdc.metrics_url,
                                c->cdc.address.host,
                                c->cdc.address.port,
                                c->cdc.path,
                                std::chrono::milliseconds(c->cdc.interval_ms),
                                std::chrono::milliseconds(c->cdc.timeout_ms)};
          },
          [this](const ScrapeTarget& t, const Result<std::string>& body) {
            monitor_.Record(t.url, configured_()->cdc.lag_warn_s, body,
                            UnixMillis(SystemClock::WallNow()));
          },
          [this] { monitor_.Unconfigure(); }) {}

boost::json::value FollowerWatch::Json() const {
  return FollowerStatusToJson(monitor_.Snapshot());
}

}  // namespace ficus::proxy
