// Partitioner tokens and ScyllaDB shard selection.
//
// Murmur3Token is Cassandra's Murmur3Partitioner: the first 64 bits of
// MurmurHash3_x64_128 (seed 0) in Cassandra's variant, which reads the tail
// bytes as *signed* Java bytes, and maps INT64_MIN to INT64_MAX (the
// minimum token is reserved). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "ficus/cql/wire.h"

namespace ficus::cql {

// The raw h1 half of Cassandra's murmur3 variant (no normalisation).
std::int64_t Murmur3Hash(ByteView key);
// Token of a serialized partition key.
std::int64_t Murmur3Token(ByteView key);

// The serialized partition key for token computation: a single component is
// used as is; several components are each written as
// <short length><bytes><0x00> (Cassandra's CompositeType).
Bytes RoutingKey(const std::vector<ByteView>& components);

// ScyllaDB "biased-token-round-robin" sharding (protocol-extensions.md):
// bias the token by 2^63, shift left by ignore_msb (mod 2^64), take the high
// 64 bits of the 128-bit product with nr_shards. nr_shards must be > 0.
unsigned ScyllaShardOf(std::int64_t token, unsigned nr_shards, unsigned ignore_msb);

}  // namespace ficus::cql
