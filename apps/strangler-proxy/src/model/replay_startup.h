// The replay log as the proxy opens it at start.
//
// FileReplayLogOptionsFor(): the directory is --replay-dir, else replay.dir,
// else <config file's directory>/replay; replay.max_bytes bounds it (the
// segment size never exceeds it); retries back off from 100 ms to 5 s.
//
// OpenReplayLog(): opens the log (recovering its segments), then replays
// into it the write intents a killed proxy left unsettled (model/intent_log.h:
// writes sent to one side whose other side is unknown go to both), before
// anything is served or replayed; logs what it found. The error names the
// directory.
#pragma once

#include <memory>
#include <string>

#include "domain/config.h"
#include "ficus/result.h"
#include "model/file_replay_log.h"

namespace ficus::proxy {

FileReplayLogOptions FileReplayLogOptionsFor(const Config& cfg, const std::string& dir_flag,
                                             const std::string& config_dir);

Result<std::unique_ptr<FileReplayLog>> OpenReplayLog(const FileReplayLogOptions& options);

}  // namespace ficus::proxy
