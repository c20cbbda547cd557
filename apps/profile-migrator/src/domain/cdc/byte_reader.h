// ByteReader: bounds-checked little-endian reads over a byte span, for the
// binlog decoders. Every read returns false (and reads nothing) when the
// span is too short, so a truncated event becomes an error, never a read
// past the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace ficus::migrator::cdc {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }
  [[nodiscard]] std::size_t position() const { return pos_; }

  // Unsigned little-endian integer of `n` bytes (1..8).
  bool Uint(std::size_t n, std::uint64_t& out) {
    if (n == 0 || n > 8 || remaining() < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) out |= std::uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Le(T& out) {
    std::uint64_t v = 0;
    if (!Uint(sizeof(T), v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  // MySQL length-encoded integer (1, 3, 4 or 9 bytes); 0xFB (NULL) is refused.
  bool LenEnc(std::uint64_t& out) {
    std::uint64_t first = 0;
    if (!Uint(1, first)) return false;
    if (first < 251) {
      out = first;
      return true;
    }
    if (first == 252) return Uint(2, out);
    if (first == 253) return Uint(3, out);
    if (first == 254) return Uint(8, out);
    return false;
  }
  bool Bytes(std::size_t n, std::span<const std::uint8_t>& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool String(std::size_t n, std::string& out) {
    std::span<const std::uint8_t> b;
    if (!Bytes(n, b)) return false;
    out.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }
  bool Skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  [[nodiscard]] std::span<const std::uint8_t> Rest() const { return bytes_.subspan(pos_); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace ficus::migrator::cdc
