// FollowState: the follower's durable checkpoint, one small JSON file.
//
//   {"version":1,"gtid":"0-1-42","phase":"follow","source":"127.0.0.1:3307/ficus",
//    "saved_at_us":1796414611000000,"stamps":{"generation":3,"bytes":4096}}
//
// `gtid` is the binlog position up to which every change is acknowledged by
// the writer (a MariaDB GTID position, "" = from the oldest binlog).
// `phase`: "backfill" (written by `backfill` when it starts: the position of
// its snapshot, so following from it misses nothing), "backfilled" (the
// backfill finished), "follow" (the follower has applied from it). The file
// is replaced atomically (model/checkpoint_file.h) after each acknowledged
// batch. `stamps`: the StampSequencer journal valid for this checkpoint
// (model/stamp_journal.h; absent = empty). Parse errors name the file and
// the field.
#pragma once

#include <cstdint>
#include <string>

#include "ficus/result.h"

namespace ficus::migrator::cdc {

struct FollowState {
  std::string gtid;
  std::string phase = "follow";
  std::string source;
  std::int64_t saved_at_us = 0;
  std::int64_t stamps_generation = 0;
  std::int64_t stamps_bytes = 0;

  bool operator==(const FollowState&) const = default;
};

std::string SerializeFollowState(const FollowState& state);
Result<FollowState> ParseFollowState(const std::string& text, const std::string& path);

}  // namespace ficus::migrator::cdc
