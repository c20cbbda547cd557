#include "model/replay_startup.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "model/intent_log.h"

namespace ficus::proxy {

FileReplayLogOptions FileReplayLogOptionsFor(const Config& cfg, const std::string& dir_flag,
                                             const std::string& config_dir) {
  FileReplayLogOptions o;
  o.dir = !dir_flag.empty()        ? dir_flag
          : cfg.replay.dir.empty() ? config_dir + "/replay"
                                   : cfg.replay.dir;
  o.max_bytes = cfg.replay.max_bytes;
  o.segment_bytes = std::min<uint64_t>(o.segment_bytes, cfg.replay.max_bytes);
  o.initial_backoff = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(5000);
  return o;
}

Result<std::unique_ptr<FileReplayLog>> OpenReplayLog(const FileReplayLogOptions& options) {
  auto log = FileReplayLog::Open(options);
  if (!log)
    return MakeError(log.error().code, "replay log " + options.dir + ": " + log.error().message);
  // Writes a killed proxy had sent without settling: to both sides, before serving.
  auto recovered = IntentLog::Recover(options.dir, **log);
  if (!recovered) {
    return MakeError(recovered.error().code,
                     "replay log " + options.dir + ": " + recovered.error().message);
  }
  if (*recovered > 0) {
    spdlog::warn("replay log {}: {} writes in flight at the last stop replayed to both sides",
                 options.dir, *recovered);
  }
  const auto st = (*log)->Stats();
  spdlog::info("replay log {}: {} writes pending from before ({} bytes)", options.dir, st.backlog,
               st.bytes);
  return log;
}

}  // namespace ficus::proxy
