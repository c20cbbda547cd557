// Backfill checkpoint: how far each key-range partition has been copied.
//
// A partition's `last_done` is a user id such that every user <= it in that
// range has been written (acknowledged by the writer). Requests complete out
// of order, so ChunkTracker keeps the low-water mark: chunks are issued in
// key order and the mark advances only over a contiguous prefix of
// completed chunks. Resuming restarts each partition after its mark; users
// written past it are written again, which per-key last-write-wins makes
// harmless (idempotent).
//
// The serialized form is a small JSON document; ParseCheckpoint rejects a
// file that is not one, naming the field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

struct PartitionProgress {
  KeyRange range;
  std::string last_done;  // "" = nothing yet
  bool finished = false;
  std::int64_t profiles = 0;  // profiles acknowledged up to last_done
  bool operator==(const PartitionProgress&) const = default;
};

struct Checkpoint {
  std::string source;  // identifies the legacy database (host:port/db)
  std::vector<PartitionProgress> partitions;
  bool operator==(const Checkpoint&) const = default;

  [[nodiscard]] std::int64_t profiles() const;
  [[nodiscard]] bool finished() const;
};

std::string SerializeCheckpoint(const Checkpoint& cp);
// `origin` (e.g. the file path) prefixes every error message.
Result<Checkpoint> ParseCheckpoint(std::string_view text, const std::string& origin);
// A checkpoint can only be resumed with the same source and partitioning.
Status CheckResumable(const Checkpoint& cp, const std::string& source,
                      const std::vector<KeyRange>& ranges, const std::string& origin);

// Not thread-safe: the owner serializes access.
class ChunkTracker {
 public:
  ChunkTracker() = default;
  // Resuming: the mark starts where the checkpoint left it.
  ChunkTracker(std::string last_done, std::int64_t profiles)
      : last_done_(std::move(last_done)), profiles_done_(profiles) {}
  // Registers the next chunk in key order; returns its sequence number.
  std::uint64_t Issue(std::string last_id, std::int64_t profiles);
  void Complete(std::uint64_t seq);
  // Low-water mark: last id and profile count of the contiguous completed prefix.
  [[nodiscard]] const std::string& last_done() const { return last_done_; }
  [[nodiscard]] std::int64_t profiles_done() const { return profiles_done_; }
  [[nodiscard]] bool idle() const { return pending_.empty(); }

 private:
  struct Chunk {
    std::string last_id;
    std::int64_t profiles = 0;
    bool complete = false;
  };
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, Chunk> pending_;
  std::string last_done_;
  std::int64_t profiles_done_ = 0;
};

}  // namespace ficus::migrator
