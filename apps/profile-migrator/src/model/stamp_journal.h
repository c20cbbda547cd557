// StampJournal: the StampSequencer's memory on disk, beside the follow
// checkpoint, so implied-stamp chains survive a restart (kill -9 included).
//
// Files: BASE.stamps.GEN (BASE = the checkpoint path). The checkpoint
// records a StampJournalPos {generation, bytes}: the journal valid for that
// checkpoint is the first `bytes` bytes of generation `generation`'s file
// (bytes 0 = empty; no file needed). Anything after them was written by a
// run that died before its checkpoint: Append truncates it away first, and
// Load never reads it. So journal and checkpoint move together although
// they are two files:
//   Append(pos, text): truncate the file to pos.bytes, append, fdatasync;
//     returns the position to put in the next checkpoint.
//   Rewrite(pos, text): write generation pos.generation + 1 whole, fsync it
//     and the directory (compaction; the old generation stays valid until
//     the checkpoint naming the new one is saved; then Forget(old)).
//   Load(pos): the first pos.bytes bytes; NotFound/short file -> error
//     naming the file (the checkpoint promises more than is there).
// Errors name the file and the system error.
#pragma once

#include <cstdint>
#include <string>

#include "ficus/result.h"

namespace ficus::migrator {

struct StampJournalPos {
  std::int64_t generation = 0;
  std::int64_t bytes = 0;

  bool operator==(const StampJournalPos&) const = default;
};

class StampJournal {
 public:
  explicit StampJournal(std::string base) : base_(std::move(base)) {}

  Result<StampJournalPos> Append(const StampJournalPos& pos, const std::string& text);
  Result<StampJournalPos> Rewrite(const StampJournalPos& pos, const std::string& text);
  Result<std::string> Load(const StampJournalPos& pos) const;
  // Removes generation `generation`'s file (best effort).
  void Forget(std::int64_t generation) const;
  std::string FileOf(std::int64_t generation) const;

 private:
  std::string base_;
};

}  // namespace ficus::migrator
