// WriterChangeApplier: the follower's ChangeApplier over the profile
// writer's single-update API (POST /api/v2/profile/update with
// X-Ficus-Timestamp), `workers` keep-alive connections in parallel.
//
// Apply splits the updates over the workers by user (a user's updates go
// through one connection, in order) and returns when all are answered.
// 4xx answers are returned as rejected; if any update stays unreachable
// past the store's retry deadline (or the writer answers nonsense) the
// call fails with Unavailable and the caller retries the whole call.
// Not thread-safe: one caller at a time.
#pragma once

#include <memory>

#include "model/change_applier.h"
#include "model/modern_store.h"

namespace ficus::migrator {

std::unique_ptr<ChangeApplier> MakeWriterChangeApplier(ModernStoreFactory factory, int workers);

}  // namespace ficus::migrator
