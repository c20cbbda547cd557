// Byte layouts of the RocksDB store: keys of the three column families and
// the values (profiles, idempotency records). Pure; no RocksDB header.
//
//   current      key user(16)                                  value EncodeProfile
//   history      key user(16) ++ BE64(UINT64_MAX - ts_us) ++ BE64(seq)
//                                                               value EncodeProfile (the update)
//   idempotency  key user(16) ++ idempotency key bytes           value EncodeIdempotency
//
// History keys sort newest first within a user; `seq` (unique per store,
// increasing) keeps equal stamps apart.
// Profile value: u64 updated_us, u32 n, then n cells of
//   u16 key_len, key, i64 ts_us, u8 has_value, [u32 value_len, value]
// (little-endian). Decoders reject truncated or trailing bytes (kInternal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/idempotency.h"
#include "domain/profile.h"
#include "ficus/result.h"

namespace ficus::writer {

std::string CurrentKey(const Uuid& user);
std::string HistoryKey(const Uuid& user, std::int64_t ts_us, std::uint64_t seq);
// Appends the history key to `out` (a buffer reused across a batch).
void AppendHistoryKey(std::string& out, const Uuid& user, std::int64_t ts_us, std::uint64_t seq);
std::string HistoryPrefix(const Uuid& user);
std::string IdempotencyKey(const Uuid& user, std::string_view key);

struct HistoryKeyParts {
  Uuid user{};
  std::int64_t ts_us = 0;
  std::uint64_t seq = 0;
};
Result<HistoryKeyParts> DecodeHistoryKey(std::string_view key);

std::string EncodeProfile(const Profile& profile);
// Appends EncodeProfile(profile) to `out`.
void AppendProfile(std::string& out, const Profile& profile);
Result<Profile> DecodeProfile(std::string_view bytes);

// Value of the idempotency CF: u64 created_us, 32-byte fingerprint, profile.
std::string EncodeIdempotency(const IdempotencyRecord& record);
Result<IdempotencyRecord> DecodeIdempotency(const Uuid& user, std::string_view bytes);
// created_us of an encoded record, without decoding the profile (compaction).
Result<std::int64_t> IdempotencyCreatedUs(std::string_view bytes);

}  // namespace ficus::writer
