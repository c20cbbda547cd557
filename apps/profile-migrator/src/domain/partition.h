// Key-range partitioning of the user-id space for parallel workers.
//
// User ids are canonical lowercase UUIDs, compared as strings (the legacy
// primary-key order). Random (v4) ids spread evenly over the first 32 bits,
// so splitting that prefix into n equal slices gives n balanced ranges.
// Ranges are half-open [lo, hi), cover the whole space, never overlap, and
// are the same for the same n, which is what lets a checkpoint be resumed.
#pragma once

#include <string>
#include <vector>

#include "ficus/result.h"
#include "model/profile.h"

namespace ficus::migrator {

inline constexpr int kMaxPartitions = 256;

// n in 1..kMaxPartitions, else InvalidArgument.
Result<std::vector<KeyRange>> SplitUserIdSpace(int n);

}  // namespace ficus::migrator
