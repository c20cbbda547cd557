// Wiring of `profile-migrator follow` / `status` (the CDC follower) and of
// the binlog position that `backfill` records; called from main.cc.
#pragma once

#include <string>

#include "api/cli.h"

namespace ficus::migrator {

// Runs `follow` or `status` (argv[1]); returns the exit code.
int FollowMain(int argc, char** argv);

// Before a fresh backfill: records the GTID position of a consistent
// snapshot in `path` (phase "backfill"), so a follower started from it
// misses no change the backfill's later snapshots do not see. A server with
// the binlog off, or one that cannot be reached, gets a warning and nothing
// is recorded (`follow` then refuses to start without a position: safe).
void RecordBackfillPosition(const CommonArgs& common, const std::string& path);

// After a backfill that completed: phase "backfill" -> "backfilled" (left
// alone when a follower has already moved it on).
void MarkBackfilled(const std::string& path);

}  // namespace ficus::migrator
