// The ScyllaDB schema (packages/schema/cql/*.cql): loading, rendering with
// the configured keyspace and replication, and applying it to a cluster
// (`profile-writer schema apply`).
//
// Rendering fills {{keyspace}}, {{replication}} and {{history_ttl}}, drops
// `--` comment lines and splits on ';' - the schema files contain no string
// literal with ';' or "--". Any other {{placeholder}} is an error.
// Everything but ApplyCqlSchema is pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"
#include "model/scylla_store_url.h"

namespace ficus::writer {

struct CqlSchemaFile {
  std::string name;  // e.g. "001_keyspace.cql"
  std::string text;
};

// The files of packages/schema/cql as they were at build time, in name order.
std::vector<CqlSchemaFile> EmbeddedCqlSchema();
// The *.cql files of `dir`, in name order (an override for operators).
Result<std::vector<CqlSchemaFile>> LoadCqlSchemaDir(const std::string& dir);

// --replication: "SimpleStrategy:<rf>" or "NetworkTopologyStrategy:<dc>=<rf>[,<dc>=<rf>...]"
// (rf 1..15) to a CQL replication map, e.g.
// "{'class': 'NetworkTopologyStrategy', 'dc1': 3}". Errors name --replication.
Result<std::string> ParseReplication(std::string_view spec);

struct CqlSchemaParams {
  std::string keyspace;
  std::string replication;         // a map from ParseReplication
  std::int64_t history_ttl_s = 0;  // 0: keep history forever
};

// The statements to run, in order.
Result<std::vector<std::string>> RenderCqlSchema(const std::vector<CqlSchemaFile>& files,
                                                 const CqlSchemaParams& params);

struct ApplySchemaOptions {
  ScyllaStoreUrl url;
  std::string password;
  std::chrono::milliseconds agreement_timeout{30000};
  std::function<void(std::string_view line)> progress;  // one line per step; may be empty
};

// Runs `statements` in order over one connection to the first reachable
// contact point (so each DDL sees the previous one), then waits until every
// node that answers reports the same schema version. Blocking.
Status ApplyCqlSchema(const ApplySchemaOptions& options,
                      const std::vector<std::string>& statements);

}  // namespace ficus::writer
