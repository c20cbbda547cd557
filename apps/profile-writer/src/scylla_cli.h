// ScyllaDB wiring for main.cc: the `schema` subcommand and opening the
// store selected by --store scylla://... (see model/scylla_store_url.h).
//
// The CQL password is read from FICUS_WRITER_SCYLLA_PASSWORD (never from
// the URL or a flag, so it does not show in `ps`).
#pragma once

#include <memory>
#include <string>

#include "ficus/metrics.h"
#include "ficus/result.h"
#include "model/profile_store.h"

namespace ficus::writer {

inline constexpr const char* kScyllaPasswordEnv = "FICUS_WRITER_SCYLLA_PASSWORD";

// `profile-writer schema apply --store scylla://... --replication ...`;
// argv[0] is "schema". Returns the process exit code: 0 applied (or printed
// with --dry-run), 2 bad arguments (message names the flag), 1 cluster error.
int RunSchemaCommand(int argc, char** argv);

// Opens the ScyllaDB store for `url` (already validated by LoadConfig) and
// registers its metrics. Connects in the background: /readyz is 503 until
// the cluster answers and the statements are prepared.
Result<std::unique_ptr<ProfileStore>> OpenScyllaStore(const std::string& url,
                                                      MetricsRegistry& metrics);

}  // namespace ficus::writer
