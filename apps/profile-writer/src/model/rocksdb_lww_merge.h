// The `current` column family's merge operator: operands and values are
// encoded partial profiles (rocksdb_codec.h), folded with domain MergeInto
// (per-key last-write-wins by timestamp, tombstones kept, the tie rule).
// Associative and commutative, so RocksDB may combine operands in any
// grouping. A corrupt operand or value fails the merge (RocksDB reports
// Corruption) rather than being guessed at.
//
// RocksDbProfileStore's writer Puts merged profiles; this operator is what
// reads stores that hold operands (written by earlier versions of the
// writer, or by tools that write blind merges, like ScyllaDB's
// `profiles_current` updates).
#pragma once

#include <memory>

namespace rocksdb {
class MergeOperator;
}  // namespace rocksdb

namespace ficus::writer {

std::shared_ptr<rocksdb::MergeOperator> NewProfileLwwMergeOperator();

}  // namespace ficus::writer
