// StampSequencer: keeps the implied stamps of successive changes of one key
// in binlog order, across restarts too.
//
// A change whose row did not set a stamp (a bare `UPDATE ... SET
// attr_value = ...`, a key deleted by SQL) gets KeyImpliedTimestamp: the
// row's old stamp + 1 (profile_changes.h). Legacy's column does not move
// for such a change, so two of them in a row (a bare update, then a bare
// update or a delete of the same key) imply the SAME stamp, and the
// writer's tie rule (not binlog order) would pick the winner: the later
// change could be lost. Sequence() raises an implied stamp to at least the
// key's previous implied stamp + 1, so the later one wins. Explicit stamps
// are never changed; an explicit change ends the key's chain (the next
// implied stamp is after the row's new stamp anyway), so only keys whose
// last change was implied are remembered.
//
// Durable memory: TakeMemos() returns what Sequence() changed in the memory
// since the last call (a key's new last stamp, or ts_us 0 = forgotten), in
// order; the follower appends them to a journal beside its checkpoint
// (model/stamp_journal.h) and Restore() replays that journal after a
// restart. So a chain that straddles a restart (even kill -9) goes on where
// it was: the follower resumed at checkpoint C with the memory of C
// sequences the same changes exactly as the process that died did. (Found
// by the cdc kill9 test: bare update, bare update, restart, delete -> the
// delete came out one microsecond behind the second update and lost.)
//
// Bounded: past `max_keys` remembered keys the memory is cleared (Cleared()
// says so once; the follower then rewrites the journal from Snapshot()).
// Two implied changes of one key straddling such a clear can still tie
// (verify --repair finds and fixes such a user). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/cdc/profile_changes.h"
#include "ficus/result.h"

namespace ficus::migrator::cdc {

// One change of the memory: key (user_id, key) now last implied at ts_us;
// ts_us == 0: the key is forgotten.
struct StampMemo {
  std::string user_id;
  std::string key;
  std::int64_t ts_us = 0;

  bool operator==(const StampMemo&) const = default;
};

class StampSequencer {
 public:
  explicit StampSequencer(std::size_t max_keys = 1'000'000) : max_keys_(max_keys) {}

  // Rewrites the implied stamps of `changes` (binlog order) in place.
  void Sequence(std::vector<AttributeChange>& changes);

  // The memory's changes since the last call, in order.
  std::vector<StampMemo> TakeMemos();
  // True once after the memory was cleared (past max_keys).
  bool TakeCleared();
  // The whole memory, one memo per remembered key (order unspecified).
  std::vector<StampMemo> Snapshot() const;
  // Replays memos (a journal) into an empty or live memory.
  void Restore(const std::vector<StampMemo>& memos);
  std::size_t size() const { return last_.size(); }

 private:
  void Remember(const std::string& id, std::int64_t ts_us);
  std::size_t max_keys_;
  std::unordered_map<std::string, std::int64_t> last_;  // user '\0' key -> last implied stamp
  std::vector<StampMemo> memos_;
  bool cleared_ = false;
};

// Journal text of memos: one JSON array per line, ["user","key",ts_us].
std::string EncodeStampMemos(const std::vector<StampMemo>& memos);
// Errors (InvalidArgument) name `origin` and the line.
Result<std::vector<StampMemo>> DecodeStampMemos(const std::string& text, const std::string& origin);

}  // namespace ficus::migrator::cdc
