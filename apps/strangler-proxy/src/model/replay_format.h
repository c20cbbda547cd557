// The replay log's on-disk format (see file_replay_log.h for the files): the
// segment and ack file headers, record frames [u32 len][u32 crc32c][payload]
// and the payload encoding of a ReplayRecord. All integers little-endian.
//
// Contract: DecodePayload(EncodePayload(r)) == r (every field); a payload
// that is cut, has bytes left over, or declares more than 10,000 headers
// decodes to false. Crc32c is CRC-32C (Castagnoli), check value of
// "123456789" = 0xE3069283. Pure, no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/replay_record.h"

namespace ficus::proxy::replay_format {

inline constexpr char kSegMagic[4] = {'F', 'R', 'L', '1'};
inline constexpr char kAckMagic[4] = {'F', 'A', 'K', '1'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kSegHeader = 16;   // magic, u32 version, u64 first seq
inline constexpr size_t kAckHeader = 16;   // magic, u64 floor, u32 crc
inline constexpr size_t kAckEntry = 12;    // u64 seq, u32 crc
inline constexpr size_t kFrameHeader = 8;  // u32 len, u32 crc32c

uint32_t Crc32c(const char* data, size_t n);
void PutU32(std::string& s, uint32_t v);
void PutU64(std::string& s, uint64_t v);
uint32_t GetU32(const char* p);
uint64_t GetU64(const char* p);

// Bounds-checked little-endian reader of a frame's payload (the replay log's
// records and the intent log's entries): each call returns false, reading
// nothing, when fewer bytes are left than it needs.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  bool U8(uint8_t& v) {
    if (n_ - i_ < 1) return false;
    v = static_cast<uint8_t>(p_[i_++]);
    return true;
  }
  bool U32(uint32_t& v) {
    if (n_ - i_ < 4) return false;
    v = GetU32(p_ + i_);
    i_ += 4;
    return true;
  }
  bool U64(uint64_t& v) {
    if (n_ - i_ < 8) return false;
    v = GetU64(p_ + i_);
    i_ += 8;
    return true;
  }
  bool Str(std::string& v) {
    uint32_t len = 0;
    if (!U32(len) || n_ - i_ < len) return false;
    v.assign(p_ + i_, len);
    i_ += len;
    return true;
  }
  [[nodiscard]] bool Done() const { return i_ == n_; }

 private:
  const char* p_;
  size_t n_;
  size_t i_ = 0;
};

std::string EncodePayload(const ReplayRecord& r);
bool DecodePayload(const char* p, size_t n, ReplayRecord& r);
// "seg-<first seq, 20 digits>.log"
std::string SegmentName(uint64_t first_seq);

}  // namespace ficus::proxy::replay_format
